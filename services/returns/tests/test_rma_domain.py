import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from portal_runtime.errors import Conflict, InvalidInput
from portal_runtime.lifecycle import InvalidTransition, Transition
from returns.domain.events import (
    GoodsReceived,
    ReturnApproved,
    ReturnExpectedDateChanged,
    ReturnRejected,
    ReturnRequested,
)
from returns.domain.invoices import InvoicedLine, ReturnableInvoice
from returns.domain.rma import ReceiptRequest, Resolution, ReturnLine, Rma, Status

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)

INVOICE = ReturnableInvoice(
    invoice_id=uuid.uuid4(),
    number="INV-1",
    account_id="ACME",
    issued_at=NOW,
    lines=(
        InvoicedLine("Router X1", 5),
        InvoicedLine("Cable", 2),
        InvoicedLine("Cable", 3),
        InvoicedLine("Setup fee", 1),
    ),
)


def line(sku="Router X1", quantity=1, reason="broken"):
    return ReturnLine(sku=sku, quantity=quantity, reason=reason)


def request(*lines, invoice=INVOICE, account="ACME", number="INV-1", claimed=None, shipped=None, problem=None):
    return Rma.request(
        invoice=invoice,
        account_id=account,
        by=f"{account}/customer",
        invoice_number=number,
        lines=list(lines) or [line()],
        claimed=claimed or {},
        shipped=shipped,
        problem=problem,
        number="RMA-2026-000001",
        now=NOW,
    )


def field_of(err) -> str:
    return err.value.field


def test_request_is_requested_and_records_its_first_step():
    rma = request(line(quantity=2), line("Cable", 5, " loose "))
    assert rma.status == "requested" and rma.invoice_number == "INV-1" and rma.account_id == "ACME"
    assert rma.lines == (line(quantity=2), ReturnLine("Cable", 5, "loose"))
    assert rma.history == [Transition(at=NOW, by="ACME/customer", from_status=None, to_status=Status.REQUESTED)]
    assert (rma.number, rma.invoice_id, rma.problem) == ("RMA-2026-000001", INVOICE.invoice_id, "broken; loose")
    assert rma.events == [
        ReturnRequested(
            rma_id=rma.id,
            account_id="ACME",
            invoice_number="INV-1",
            lines=rma.lines,
            at=NOW,
            number="RMA-2026-000001",
            invoice_id=INVOICE.invoice_id,
            problem="broken; loose",
        )
    ]


@pytest.mark.parametrize(
    "problem, kept, field",
    [
        (" it hums ", "it hums", None),
        (" ", None, "problem"),
        ("x" * 2001, None, "problem"),
        ("x" * 2000, "x" * 2000, None),
    ],
)
def test_the_problem_is_kept_trimmed_and_checked(problem, kept, field):
    if field:
        with pytest.raises(InvalidInput) as err:
            request(problem=problem)
        assert field_of(err) == field
    else:
        assert request(problem=problem).problem == kept


def test_lines_with_the_same_description_add_up():
    assert INVOICE.invoiced("Cable") == 5 and INVOICE.invoiced("Modem") is None


@pytest.mark.parametrize("invoice, account", [(None, "ACME"), (INVOICE, "OTHER")])
def test_unknown_or_another_accounts_invoice_names_invoice_number_alike(invoice, account):
    with pytest.raises(InvalidInput) as err:
        request(invoice=invoice, account=account)
    assert field_of(err) == "invoice_number"
    assert err.value.message == "no invoice 'INV-1' of yours to return goods against"


@pytest.mark.parametrize(
    "lines, field",
    [
        ([line("Modem")], "lines[0].sku"),
        ([line(), line("  ")], "lines[1].sku"),
        ([line(), line("Router X1")], "lines[1].sku"),
        ([line(quantity=0)], "lines[0].quantity"),
        ([line(quantity=6)], "lines[0].quantity"),
        ([line(), line("Cable", 6)], "lines[1].quantity"),
        ([line(reason="  ")], "lines[0].reason"),
    ],
)
def test_invalid_lines_name_the_field(lines, field):
    with pytest.raises(InvalidInput) as err:
        request(*lines)
    assert field_of(err) == field


def test_no_lines_names_lines():
    with pytest.raises(InvalidInput) as err:
        Rma.request(
            invoice=INVOICE,
            account_id="ACME",
            by="ACME/customer",
            invoice_number="INV-1",
            lines=[],
            claimed={},
            now=NOW,
        )
    assert field_of(err) == "lines"


def test_the_whole_invoiced_quantity_may_be_returned():
    assert request(line(quantity=5)).lines[0].quantity == 5


def test_earlier_returns_reduce_what_is_left():
    assert request(line(quantity=2), claimed={"Router X1": 3}).lines[0].quantity == 2
    with pytest.raises(InvalidInput) as err:
        request(line(quantity=3), claimed={"Router X1": 3})
    assert field_of(err) == "lines[0].quantity" and err.value.extra["available"] == 2
    assert "5 invoiced, 3 in other returns" in err.value.message


def test_nothing_left_when_earlier_returns_claim_everything_or_more():
    with pytest.raises(InvalidInput) as err:
        request(line("Setup fee"), claimed={"Setup fee": 2})
    assert err.value.extra["available"] == 0


def test_claims_on_other_lines_do_not_count():
    assert request(line(quantity=5), claimed={"Cable": 5}).status == "requested"


ORDER = uuid.uuid4()
R1, R2 = uuid.uuid4(), uuid.uuid4()
GOODS = ReturnableInvoice(
    invoice_id=uuid.uuid4(),
    number="INV-7",
    account_id="ACME",
    issued_at=NOW,
    lines=(InvoicedLine("Router X1", 5, line_id=R1), InvoicedLine("Cable", 3, line_id=R2)),
    source_kind="order",
    source_id=str(ORDER),
)
TODAY = date(2026, 1, 1)


def test_goods_of_an_order_are_returnable_only_as_far_as_they_shipped():
    assert GOODS.order_id == ORDER and INVOICE.order_id is None
    rma = request(ReturnLine("", 2, "x", R1), invoice=GOODS, number="INV-7", shipped={str(R1): 2})
    assert rma.lines[0].quantity == 2
    with pytest.raises(InvalidInput) as err:
        request(ReturnLine("", 3, "x", R1), invoice=GOODS, number="INV-7", shipped={str(R1): 4}, claimed={str(R1): 2})
    assert field_of(err) == "lines[0].quantity" and err.value.extra["available"] == 2
    assert "5 invoiced, 4 shipped, 2 in other returns" in err.value.message
    with pytest.raises(InvalidInput) as err:  # nothing of the cable shipped yet
        request(ReturnLine("", 1, "x", R2), invoice=GOODS, number="INV-7", shipped={str(R1): 5})
    assert field_of(err) == "lines[0].quantity" and err.value.extra["available"] == 0
    # more shipped than invoiced (an order line invoiced in part) still caps at the invoice
    with pytest.raises(InvalidInput) as err:
        request(ReturnLine("", 6, "x", R1), invoice=GOODS, number="INV-7", shipped={str(R1): 9})
    assert err.value.extra["available"] == 5


def goods() -> Rma:
    rma = request(
        ReturnLine("", 4, "x", R1),
        ReturnLine("", 2, "y", R2),
        invoice=GOODS,
        number="INV-7",
        shipped={str(R1): 5, str(R2): 3},
    )
    rma.events.clear()
    return rma


def requested() -> Rma:
    rma = request()
    rma.events.clear()
    return rma


def steps(rma: Rma) -> list[Transition]:
    """The history rows after the first (the request)."""
    return rma.history[1:]


def approve(rma: Rma, **kw) -> Rma:
    rma.approve(
        by="ops", now=kw.pop("now", NOW), today=TODAY, expected_on=kw.pop("expected_on", date(2026, 1, 15)), **kw
    )
    return rma


def receipt(rma: Rma, *lines: ReceiptRequest | None, number="GR-2026-000001", note=None):
    return rma.receive(
        list(lines) if lines != (None,) else None,
        receipt_id=uuid.uuid4(),
        number=number,
        by="clerk",
        now=LATER,
        note=note,
    )


def test_approve_records_the_resolution_and_the_expected_date_and_raises_return_approved():
    rma = approve(goods(), resolution=Resolution.CREDIT, note=" checked ", now=LATER)
    assert (rma.status, rma.resolution, rma.expected_on, rma.updated_at) == (
        "approved",
        "credit",
        date(2026, 1, 15),
        LATER,
    )
    assert steps(rma) == [Transition(at=LATER, by="ops", from_status="requested", to_status="approved", note="checked")]
    assert rma.events == [
        ReturnApproved(
            rma_id=rma.id,
            number="RMA-2026-000001",
            account_id="ACME",
            invoice_id=GOODS.invoice_id,
            invoice_number="INV-7",
            resolution="credit",
            expected_on=date(2026, 1, 15),
            lines=rma.lines,
            note="checked",
            by="ops",
            at=LATER,
        )
    ]


def test_approve_with_an_expected_date_before_today_names_it_and_changes_nothing():
    rma = requested()
    with pytest.raises(InvalidInput) as err:
        approve(rma, expected_on=date(2025, 12, 31))
    assert field_of(err) == "expected_on" and rma.status == "requested" and rma.events == [] and steps(rma) == []
    assert approve(requested(), expected_on=TODAY).expected_on == TODAY


def test_the_expected_date_changes_while_goods_are_awaited():
    rma = approve(goods())
    rma.events.clear()
    rma.change_expected_date(date(2026, 1, 20), by="ops", now=LATER, today=TODAY, note="carrier late")
    assert (rma.status, rma.expected_on) == ("approved", date(2026, 1, 20))
    assert steps(rma)[-1] == Transition(
        at=LATER,
        by="ops",
        from_status="approved",
        to_status="approved",
        note="expected 2026-01-15 -> 2026-01-20: carrier late",
    )
    [event] = rma.events
    assert isinstance(event, ReturnExpectedDateChanged)
    assert (event.expected_on, event.previous_expected_on, event.note) == (
        date(2026, 1, 20),
        date(2026, 1, 15),
        "carrier late",
    )
    for bad in (date(2026, 1, 20), date(2025, 12, 31)):
        with pytest.raises(InvalidInput) as err:
            rma.change_expected_date(bad, by="ops", now=LATER, today=TODAY)
        assert field_of(err) == "expected_on"
    receipt(rma, ReceiptRequest(1, line_id=R1))
    rma.change_expected_date(date(2026, 1, 25), by="ops", now=LATER, today=TODAY)
    assert rma.status == "partly_received" and rma.expected_on == date(2026, 1, 25)
    with pytest.raises(InvalidTransition) as err:
        requested().change_expected_date(date(2026, 1, 25), by="ops", now=LATER, today=TODAY)
    assert err.value.extra["current_status"] == "requested"


def test_receipts_in_parts_until_everything_arrived():
    rma = approve(goods(), resolution=Resolution.REFUND)
    rma.events.clear()
    first = receipt(rma, ReceiptRequest(3, line_id=R1), note="box 1")
    assert rma.status == "partly_received" and [line.received for line in rma.lines] == [3, 0]
    assert [(x.line_id, x.description, x.quantity) for x in first.lines] == [(R1, "Router X1", 3)]
    assert (first.number, first.rma_number, first.invoice_number, first.note, first.received_by) == (
        "GR-2026-000001",
        "RMA-2026-000001",
        "INV-7",
        "box 1",
        "clerk",
    )
    assert rma.events == [
        GoodsReceived(receipt=first, invoice_id=GOODS.invoice_id, resolution="refund", rma_status="partly_received")
    ]
    last = receipt(rma, ReceiptRequest(1, sku="Router X1"), ReceiptRequest(2, line_id=R2), number="GR-2026-000002")
    assert rma.status == "received" and [line.received for line in rma.lines] == [4, 2]
    assert rma.events[-1].rma_status == "received" and rma.receipts == [first, last]
    assert [(t.from_status, t.to_status, t.note) for t in steps(rma)[1:]] == [
        ("approved", "partly_received", "GR-2026-000001: box 1"),
        ("partly_received", "received", "GR-2026-000002"),
    ]


def test_receive_everything_remaining_is_one_receipt():
    rma = approve(goods())
    receipt(rma, ReceiptRequest(1, line_id=R1))
    rest = receipt(rma, None, number="GR-2026-000002")
    assert [(x.line_id, x.quantity) for x in rest.lines] == [(R1, 3), (R2, 2)] and rma.status == "received"


@pytest.mark.parametrize(
    "lines, field, extra",
    [
        ([ReceiptRequest(5, line_id=R1)], "lines[0].quantity", {"remaining": 4}),
        ([ReceiptRequest(1, line_id=R2), ReceiptRequest(3, line_id=R2)], "lines[1].line_id", {}),
        ([ReceiptRequest(1, line_id=uuid.uuid4())], "lines[0].line_id", {}),
        ([ReceiptRequest(1, sku="Modem")], "lines[0].line_id", {}),
        ([ReceiptRequest(0, line_id=R1)], "lines[0].quantity", {}),
        ([], "lines", {}),
    ],
)
def test_a_bad_receipt_names_the_field_and_changes_nothing(lines, field, extra):
    rma = approve(goods())
    rma.events.clear()
    before = (rma.status, rma.lines, list(rma.history))
    with pytest.raises(InvalidInput) as err:
        receipt(rma, *lines) if lines else rma.receive([], receipt_id=uuid.uuid4(), number="GR", by="c", now=LATER)
    assert field_of(err) == field and all(err.value.extra[k] == v for k, v in extra.items())
    assert (rma.status, rma.lines, rma.history) == before and rma.events == [] and rma.receipts == []


def test_over_receipt_after_a_partial_one_says_what_remains():
    rma = approve(goods())
    receipt(rma, ReceiptRequest(3, line_id=R1))
    with pytest.raises(InvalidInput) as err:
        receipt(rma, ReceiptRequest(2, line_id=R1))
    assert err.value.extra["remaining"] == 1 and "4 approved, 3 received" in err.value.message


def test_reject_keeps_the_reason():
    rma = requested()
    rma.reject("  outside the return window ", by="ops", now=LATER)
    assert rma.status == "rejected" and rma.reject_reason == "outside the return window" and not rma.claims
    assert steps(rma) == [
        Transition(at=LATER, by="ops", from_status="requested", to_status="rejected", note="outside the return window")
    ]
    assert rma.events == [
        ReturnRejected(
            rma_id=rma.id,
            number="RMA-2026-000001",
            account_id="ACME",
            invoice_number="INV-1",
            reason="outside the return window",
            by="ops",
            at=LATER,
        )
    ]
    rma.close(by="ops", now=LATER)
    assert rma.status == "closed" and not rma.claims


def test_reject_needs_a_reason():
    rma = requested()
    with pytest.raises(InvalidInput) as err:
        rma.reject(" ", by="ops", now=LATER)
    assert field_of(err) == "reason" and rma.status == "requested" and steps(rma) == [] and rma.events == []


def test_received_then_completed_then_closed_still_claims():
    rma = approve(goods())
    receipt(rma, None)
    rma.complete(by="ops", now=LATER)
    rma.close(by="ops", now=LATER, note=" done ")
    assert rma.status == "closed" and rma.claims
    assert [t.to_status for t in rma.history] == ["requested", "approved", "received", "completed", "closed"]
    assert rma.history[-1].note == "done"


def approved() -> Rma:
    rma = approve(requested())
    rma.events.clear()
    return rma


def rejected() -> Rma:
    rma = requested()
    rma.reject("no", by="ops", now=NOW)
    rma.events.clear()
    return rma


def partly() -> Rma:
    rma = approve(goods())
    receipt(rma, ReceiptRequest(1, line_id=R1))
    rma.events.clear()
    return rma


def received() -> Rma:
    rma = approved()
    receipt(rma, None)
    rma.events.clear()
    return rma


def completed() -> Rma:
    rma = received()
    rma.complete(by="ops", now=NOW)
    rma.events.clear()
    return rma


def closed() -> Rma:
    rma = completed()
    rma.close(by="ops", now=NOW)
    rma.events.clear()
    return rma


RECEIVE = lambda r: receipt(r, None)  # noqa: E731
APPROVE = lambda r: approve(r, now=LATER)  # noqa: E731
REJECT = lambda r: r.reject("late", by="ops", now=LATER)  # noqa: E731
COMPLETE = lambda r: r.complete(by="ops", now=LATER)  # noqa: E731
CLOSE = lambda r: r.close(by="ops", now=LATER)  # noqa: E731
REDATE = lambda r: r.change_expected_date(date(2026, 2, 1), by="ops", now=LATER, today=TODAY)  # noqa: E731


@pytest.mark.parametrize(
    "make, act",
    [
        (requested, RECEIVE),
        (requested, COMPLETE),
        (requested, CLOSE),
        (approved, APPROVE),
        (approved, REJECT),
        (approved, COMPLETE),
        (approved, CLOSE),
        (rejected, APPROVE),
        (rejected, REJECT),
        (rejected, RECEIVE),
        (rejected, COMPLETE),
        (rejected, REDATE),
        (partly, APPROVE),
        (partly, REJECT),
        (partly, COMPLETE),
        (partly, CLOSE),
        (received, APPROVE),
        (received, REJECT),
        (received, RECEIVE),
        (received, REDATE),
        (received, CLOSE),
        (completed, RECEIVE),
        (completed, COMPLETE),
        (completed, REDATE),
        (closed, CLOSE),
        (closed, APPROVE),
        (closed, RECEIVE),
    ],
)
def test_forbidden_transitions_conflict_and_change_nothing(make, act):
    rma = make()
    before = (rma.status, rma.updated_at, rma.reject_reason, list(rma.history), rma.lines, rma.expected_on)
    with pytest.raises(InvalidTransition) as err:
        act(rma)
    assert err.value.status_code == 409 and err.value.extra["current_status"] == before[0]
    assert (rma.status, rma.updated_at, rma.reject_reason, rma.history, rma.lines, rma.expected_on) == before
    assert rma.events == [] and (rma.receipts == [] or make in (partly, received, completed, closed))


def test_reject_of_a_decided_return_conflicts_before_asking_for_a_reason():
    with pytest.raises(Conflict):
        approved().reject("", by="ops", now=LATER)


def test_approve_of_a_decided_return_conflicts_before_checking_the_date():
    with pytest.raises(Conflict):
        approve(approved(), expected_on=date(2000, 1, 1))
