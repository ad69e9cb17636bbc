"""Sample events of the returns and account-money emails (issue 16), shared by notify's tests: an RMA
requested, approved, rejected, its expected date moved, goods received for it (partly, then all), a
credit note for the returned goods, a reconciliation statement issued."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from portal_contracts import Money
from portal_contracts.events.billing import CreditNoteIssued, CreditNoteLine, StatementIssued
from portal_contracts.events.returns import (
    GoodsReceived,
    ReceivedLine,
    ReturnApproved,
    ReturnExpectedDateChanged,
    ReturnLine,
    ReturnRejected,
    ReturnRequested,
)

AT = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
RMA = uuid.UUID("99999999-0000-0000-0000-000000000161")
INVOICE = uuid.UUID("99999999-0000-0000-0000-000000000162")
BOLT_LINE = uuid.UUID("99999999-0000-0000-0000-000000000163")
NUT_LINE = uuid.UUID("99999999-0000-0000-0000-000000000164")
FIRST_RECEIPT = uuid.UUID("99999999-0000-0000-0000-000000000165")
LAST_RECEIPT = uuid.UUID("99999999-0000-0000-0000-000000000166")
CREDIT_NOTE = uuid.UUID("99999999-0000-0000-0000-000000000167")
STATEMENT = uuid.UUID("99999999-0000-0000-0000-000000000168")
PROBLEM = "The threads are stripped\non <most> bolts & nuts."


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def rma_lines() -> list[ReturnLine]:
    return [
        ReturnLine(sku="Steel bolt <M8>", quantity=1000, reason="Stripped <threads>", line_id=BOLT_LINE),
        ReturnLine(sku="Hex nut M8", quantity=20, reason="Wrong size", line_id=NUT_LINE),
    ]


def return_requested(*, number: str | None = "RMA-2026-000001", problem: str | None = PROBLEM) -> ReturnRequested:
    return ReturnRequested(
        rma_id=RMA,
        account_id="acme",
        invoice_number="INV-2026-000042",
        lines=rma_lines(),
        requested_at=AT,
        number=number,
        invoice_id=INVOICE,
        problem=problem,
    )


def return_approved(resolution: str = "refund", *, note: str | None = "Use the <blue> label") -> ReturnApproved:
    return ReturnApproved(
        rma_id=RMA,
        number="RMA-2026-000001",
        account_id="acme",
        invoice_id=INVOICE,
        invoice_number="INV-2026-000042",
        resolution=resolution,
        expected_on=date(2026, 2, 15),
        lines=rma_lines(),
        note=note,
        approved_by="admin",
        approved_at=AT,
    )


def return_rejected() -> ReturnRejected:
    return ReturnRejected(
        rma_id=RMA,
        number="RMA-2026-000001",
        account_id="acme",
        invoice_number="INV-2026-000042",
        reason="Bought more than <90> days ago & used",
        rejected_by="admin",
        rejected_at=AT,
    )


def expected_date_changed(*, note: str | None = "Waiting for the carrier", at: datetime = AT):
    return ReturnExpectedDateChanged(
        rma_id=RMA,
        number="RMA-2026-000001",
        account_id="acme",
        invoice_number="INV-2026-000042",
        expected_on=date(2026, 3, 1),
        previous_expected_on=date(2026, 2, 15),
        note=note,
        changed_by="admin",
        changed_at=at,
    )


def goods_received(part: str = "first", resolution: str = "refund") -> GoodsReceived:
    """The first receipt (600 bolts, 20 nuts: partly received), or the last (the other 400 bolts)."""
    first = part == "first"
    lines = (
        [
            ReceivedLine(invoice_line_id=BOLT_LINE, description="Steel bolt <M8>", quantity=600),
            ReceivedLine(invoice_line_id=NUT_LINE, description="Hex nut M8", quantity=20),
        ]
        if first
        else [ReceivedLine(invoice_line_id=BOLT_LINE, description="Steel bolt <M8>", quantity=400)]
    )
    return GoodsReceived(
        receipt_id=FIRST_RECEIPT if first else LAST_RECEIPT,
        number="GR-2026-000001" if first else "GR-2026-000002",
        rma_id=RMA,
        rma_number="RMA-2026-000001",
        account_id="acme",
        invoice_id=INVOICE,
        invoice_number="INV-2026-000042",
        resolution=resolution,
        lines=lines,
        rma_status="partly_received" if first else "received",
        received_by="admin",
        received_at=AT,
    )


def credit_note_issued(
    settlement: str = "refund",
    *,
    applied: str = "500.00",
    rest: str = "224.70",
    reason: str = "returned_goods",
    credit_note_id: uuid.UUID = CREDIT_NOTE,
) -> CreditNoteIssued:
    """600 bolts at €1.00 (19 % tax) and 20 nuts at €0.50 (7 % tax): net €610.00, tax €114.70, gross
    €724.70 = what the invoice still owed (`applied`) + what is refunded or credited (`rest`)."""
    lines = [
        CreditNoteLine(
            line_id=uuid.UUID("99999999-0000-0000-0000-000000000171"),
            invoice_line_id=BOLT_LINE,
            description="Steel bolt <M8>",
            quantity=600,
            unit_price=eur("1.00"),
            line_total=eur("600.00"),
            tax_rate=Decimal("0.19"),
            tax=eur("114.00"),
        ),
        CreditNoteLine(
            line_id=uuid.UUID("99999999-0000-0000-0000-000000000172"),
            invoice_line_id=NUT_LINE,
            description="Hex nut M8",
            quantity=20,
            unit_price=eur("0.50"),
            line_total=eur("10.00"),
            tax_rate=Decimal("0.07"),
            tax=eur("0.70"),
        ),
    ]
    return CreditNoteIssued(
        credit_note_id=credit_note_id,
        number="CN-2026-000007",
        invoice_id=INVOICE,
        invoice_number="INV-2026-000042",
        account_id="acme",
        source_kind="order",
        source_id=str(uuid.UUID("99999999-0000-0000-0000-000000000015")),
        currency="EUR",
        lines=lines,
        total=eur("610.00"),
        tax_total=eur("114.70"),
        reason=reason,
        settlement=settlement,
        refunded=eur(rest) if settlement == "refund" else eur("0.00"),
        credited=eur(rest) if settlement == "credit" else eur("0.00"),
        issued_at=AT,
        applied=eur(applied),
        rma_id=RMA if reason == "returned_goods" else None,
        receipt_id=FIRST_RECEIPT if reason == "returned_goods" else None,
        receipt_number="GR-2026-000001" if reason == "returned_goods" else None,
    )


def statement_issued(closing: str = "1234.50") -> StatementIssued:
    """January 2026: opening €1,000.00 + debits €2,234.50 - credits €2,000.00 = €1,234.50 (another closing
    moves the credits)."""
    credits = Decimal("1000.00") + Decimal("2234.50") - Decimal(closing)
    return StatementIssued(
        statement_id=STATEMENT,
        number="ST-2026-000003",
        account_id="acme",
        currency="EUR",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        opening_balance=eur("1000.00"),
        debits=eur("2234.50"),
        credits=eur(str(credits)),
        closing_balance=eur(closing),
        issued_by="admin",
        issued_at=AT,
    )
