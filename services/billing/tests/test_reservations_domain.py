"""An invoice's sources and the amounts it holds for payments in flight (domain only)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.domain.invoices import Invoice, Line, Payment, Reservation, Source, SourceKind
from portal_runtime.errors import InvalidInput

NOW = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)


def invoice(total="100.00") -> Invoice:
    return Invoice.issue(
        number="INV-2026-000001",
        account_id="acme",
        source=Source("test_only", "t-1", date(2026, 3, 1), date(2026, 3, 31)),
        currency="EUR",
        lines=[Line("Thing", 1, Decimal(total))],
        expected_total=None,
        instructions=[],
        now=NOW,
    )


def hold(amount: str) -> Reservation:
    return Reservation(id=uuid.uuid4(), amount=Decimal(amount), method="card", reserved_at=NOW)


def payment(amount: str) -> Payment:
    return Payment(uuid.uuid4(), "card", Decimal(amount), "EUR", "acme", NOW, "acme")


def test_a_reservation_is_not_available_to_another_payment_until_released():
    inv = invoice()
    first = hold("70.00")
    inv.reserve(first, currency="EUR")
    assert (inv.balance_due, inv.payable) == (Decimal("100.00"), Decimal("30.00"))
    with pytest.raises(InvalidInput) as refused:
        inv.reserve(hold("30.01"), currency="EUR")
    assert refused.value.extra["balance_due"] == "30.00"
    inv.release(first.id)
    inv.reserve(hold("100.00"), currency="EUR")


def test_recording_under_its_reservation_turns_the_hold_into_the_payment():
    inv = invoice()
    first, second = hold("70.00"), hold("30.00")
    inv.reserve(first, currency="EUR")
    inv.reserve(second, currency="EUR")
    inv.record_payment(payment("70.00"), now=NOW, reservation_id=first.id)
    assert inv.reservations == [second] and inv.status == "partially_paid" and inv.payable == 0
    with pytest.raises(InvalidInput):  # without its reservation, nothing is left for it
        inv.record_payment(payment("30.00"), now=NOW)
    assert inv.reservations == [second]
    inv.record_payment(payment("30.00"), now=NOW, reservation_id=second.id)
    assert inv.status == "paid" and inv.reservations == []


def test_sources_and_line_ids():
    inv = invoice()
    assert inv.source.kind == "test_only" and inv.request_id is None
    assert all(line.line_id for line in inv.lines) and inv.lines[0].tax_amount == 0
    request = uuid.uuid4()
    assert Source.service_request(request).request_id == request
    assert Source(SourceKind.ORDER, "o-1").request_id is None
    same = uuid.uuid4()
    with pytest.raises(InvalidInput) as twice:
        Invoice.issue(
            number="INV-2026-000002",
            account_id="acme",
            source=Source("test_only", "t-2"),
            currency="EUR",
            lines=[Line("A", 1, Decimal(1), line_id=same), Line("B", 1, Decimal(1), line_id=same)],
            expected_total=None,
            instructions=[],
            now=NOW,
        )
    assert twice.value.field == "lines"
