import uuid
from datetime import UTC, datetime, timedelta

import pytest

from portal_runtime.errors import Conflict, InvalidInput
from portal_runtime.lifecycle import InvalidTransition, Transition
from returns.domain.events import ReturnApproved, ReturnReceived, ReturnRejected, ReturnRequested
from returns.domain.invoices import InvoicedLine, ReturnableInvoice
from returns.domain.rma import ReturnLine, Rma, Status

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


def request(*lines, invoice=INVOICE, account="ACME", number="INV-1", claimed=None):
    return Rma.request(
        invoice=invoice,
        account_id=account,
        by=f"{account}/customer",
        invoice_number=number,
        lines=list(lines) or [line()],
        claimed=claimed or {},
        now=NOW,
    )


def field_of(err) -> str:
    return err.value.field


def test_request_is_requested_and_records_its_first_step():
    rma = request(line(quantity=2), line("Cable", 5, " loose "))
    assert rma.status == "requested" and rma.invoice_number == "INV-1" and rma.account_id == "ACME"
    assert rma.lines == (line(quantity=2), ReturnLine("Cable", 5, "loose"))
    assert rma.history == [Transition(at=NOW, by="ACME/customer", from_status=None, to_status=Status.REQUESTED)]
    assert rma.events == [
        ReturnRequested(rma_id=rma.id, account_id="ACME", invoice_number="INV-1", lines=rma.lines, at=NOW)
    ]


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
    assert "5 invoiced, 3 in earlier returns" in err.value.message


def test_nothing_left_when_earlier_returns_claim_everything_or_more():
    with pytest.raises(InvalidInput) as err:
        request(line("Setup fee"), claimed={"Setup fee": 2})
    assert err.value.extra["available"] == 0


def test_claims_on_other_lines_do_not_count():
    assert request(line(quantity=5), claimed={"Cable": 5}).status == "requested"


def requested() -> Rma:
    rma = request()
    rma.events.clear()
    return rma


def steps(rma: Rma) -> list[Transition]:
    """The history rows after the first (the request)."""
    return rma.history[1:]


def test_approve_then_receive():
    rma = requested()
    rma.approve(by="ops", now=LATER)
    rma.receive(by="ops", now=LATER)
    assert rma.status == "received" and rma.updated_at == LATER
    assert [(t.from_status, t.to_status, t.by) for t in steps(rma)] == [
        ("requested", "approved", "ops"),
        ("approved", "received", "ops"),
    ]
    assert rma.events == [
        ReturnApproved(rma_id=rma.id, account_id="ACME", by="ops", at=LATER),
        ReturnReceived(rma_id=rma.id, account_id="ACME", by="ops", at=LATER),
    ]


def test_reject_keeps_the_reason():
    rma = requested()
    rma.reject("  outside the return window ", by="ops", now=LATER)
    assert rma.status == "rejected" and rma.reject_reason == "outside the return window"
    assert steps(rma) == [
        Transition(at=LATER, by="ops", from_status="requested", to_status="rejected", note="outside the return window")
    ]
    assert rma.events == [
        ReturnRejected(rma_id=rma.id, account_id="ACME", reason="outside the return window", by="ops", at=LATER)
    ]


def test_reject_needs_a_reason():
    rma = requested()
    with pytest.raises(InvalidInput) as err:
        rma.reject(" ", by="ops", now=LATER)
    assert field_of(err) == "reason" and rma.status == "requested" and steps(rma) == [] and rma.events == []


def approved() -> Rma:
    rma = requested()
    rma.approve(by="ops", now=NOW)
    rma.events.clear()
    return rma


def rejected() -> Rma:
    rma = requested()
    rma.reject("no", by="ops", now=NOW)
    rma.events.clear()
    return rma


def received() -> Rma:
    rma = approved()
    rma.receive(by="ops", now=NOW)
    rma.events.clear()
    return rma


@pytest.mark.parametrize(
    "make, act",
    [
        (requested, lambda r: r.receive(by="ops", now=LATER)),
        (approved, lambda r: r.approve(by="ops", now=LATER)),
        (approved, lambda r: r.reject("late", by="ops", now=LATER)),
        (rejected, lambda r: r.approve(by="ops", now=LATER)),
        (rejected, lambda r: r.reject("again", by="ops", now=LATER)),
        (rejected, lambda r: r.receive(by="ops", now=LATER)),
        (received, lambda r: r.approve(by="ops", now=LATER)),
        (received, lambda r: r.reject("late", by="ops", now=LATER)),
        (received, lambda r: r.receive(by="ops", now=LATER)),
    ],
)
def test_forbidden_transitions_conflict_and_change_nothing(make, act):
    rma = make()
    before = (rma.status, rma.updated_at, rma.reject_reason, list(rma.history))
    with pytest.raises(InvalidTransition) as err:
        act(rma)
    assert err.value.status_code == 409 and err.value.extra["current_status"] == before[0]
    assert (rma.status, rma.updated_at, rma.reject_reason, rma.history) == before and rma.events == []


def test_reject_of_a_decided_return_conflicts_before_asking_for_a_reason():
    with pytest.raises(Conflict):
        approved().reject("", by="ops", now=LATER)
