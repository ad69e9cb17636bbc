"""Credit notes for returned goods: a goods receipt of an approved return (returns' GoodsReceived)
whose resolution is refund or credit becomes one credit note (reason `returned_goods`, cause = the
receipt's id, so a receipt told twice credits once); replace and repair credit nothing.

Each received line credits its invoice line at the line's unit net price and tax rate: net =
cents(line total × quantity / invoiced quantity), tax = cents(net × rate) (half-up). The credit that
brings a line's credited quantity to its invoiced quantity takes exactly the net and tax still
uncredited, so a full return in parts credits exactly what was invoiced; no credit takes more than
is left uncredited of its line. Across all credit notes of an invoice a line is never credited
beyond its invoiced quantity: a receipt beyond it is a defect upstream, logged, and only what is
left is credited (nothing at all when nothing is)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing.domain.credit_notes import CreditLine, CreditNote, Reason, Settlement
from billing.domain.invoices import Invoice, Line
from portal_runtime.kernel import cents

log = logging.getLogger(__name__)

ZERO = Decimal(0)
# The resolutions of a return that give money back, and how.
SETTLEMENTS = {"refund": Settlement.REFUND, "credit": Settlement.CREDIT}
ISSUED_BY = "system/returns"


@dataclass(frozen=True)
class Credited:
    """What the credit notes of an invoice credited of one of its lines so far."""

    quantity: int = 0
    net: Decimal = ZERO
    tax: Decimal = ZERO

    def plus(self, line: CreditLine) -> Credited:
        return Credited(self.quantity + line.quantity, self.net + line.line_total, self.tax + line.tax)


@dataclass(frozen=True)
class ReceivedLine:
    invoice_line_id: uuid.UUID | None  # None: matched by description
    description: str
    quantity: int


@dataclass(frozen=True)
class ReceivedGoods:
    """A goods receipt as billing reads it (from GoodsReceived)."""

    receipt_id: uuid.UUID
    receipt_number: str
    rma_id: uuid.UUID
    rma_number: str
    account_id: str
    invoice_id: uuid.UUID | None
    invoice_number: str
    resolution: str  # refund | credit | replace | repair
    lines: tuple[ReceivedLine, ...]
    received_at: datetime

    @property
    def settlement(self) -> Settlement | None:
        """How its credit note settles; None: the resolution credits nothing (replace, repair)."""
        return SETTLEMENTS.get(self.resolution)


def invoice_line_of(invoice: Invoice, received: ReceivedLine) -> Line | None:
    """The invoice line a received line returns: by its id, else by description (SKU) when one
    line alone has it."""
    if received.invoice_line_id is not None:
        return next((line for line in invoice.lines if line.line_id == received.invoice_line_id), None)
    named = [line for line in invoice.lines if received.description in (line.description, line.sku)]
    return named[0] if len(named) == 1 else None


def credit_of(line: Line, quantity: int, credited: Credited) -> CreditLine | None:
    """`quantity` of `line` credited, after `credited`: at most what is left of it (None when
    nothing is)."""
    left = line.quantity - credited.quantity
    if left <= 0 or quantity <= 0:
        return None
    quantity = min(quantity, left)
    net_left, tax_left = line.line_total - credited.net, line.tax_amount - credited.tax
    if quantity == left:  # the last of the line: exactly what is still uncredited
        net, tax = net_left, tax_left
    else:
        net = min(cents(line.line_total * quantity / line.quantity), net_left)
        tax = min(cents(net * line.tax_rate), tax_left)
    return CreditLine(
        line_id=uuid.uuid4(),
        invoice_line_id=line.line_id,
        description=line.description,
        quantity=quantity,
        unit_price=line.unit_price,
        line_total=max(net, ZERO),
        tax_rate=line.tax_rate,
        tax=max(tax, ZERO),
    )


def credit_lines(invoice: Invoice, goods: ReceivedGoods, credited: dict[uuid.UUID, Credited]) -> list[CreditLine]:
    """The credit lines of a receipt, given what the invoice's earlier credit notes credited per
    line (`credited`, by invoice line id). Unknown lines and quantities beyond the invoiced are
    logged and left out."""
    so_far = dict(credited)
    lines = []
    for received in goods.lines:
        line = invoice_line_of(invoice, received)
        if line is None:
            log.error(
                "goods receipt %s: %r is no line of invoice %s; not credited",
                goods.receipt_number,
                received.invoice_line_id or received.description,
                invoice.number,
            )
            continue
        before = so_far.get(line.line_id, Credited())
        credit = credit_of(line, received.quantity, before)
        if credit is None or credit.quantity < received.quantity:
            log.error(
                "goods receipt %s returns %d of %r of invoice %s, of which %d are credited already "
                "(invoiced %d): crediting %d",
                goods.receipt_number,
                received.quantity,
                line.description,
                invoice.number,
                before.quantity,
                line.quantity,
                credit.quantity if credit else 0,
            )
        if credit is not None:
            so_far[line.line_id] = before.plus(credit)
            lines.append(credit)
    return lines


def worth_a_note(lines: list[CreditLine]) -> bool:
    """Lines that give back more than nothing."""
    return bool(lines) and sum((line.line_total + line.tax for line in lines), ZERO) > 0


def for_returned_goods(
    invoice: Invoice,
    goods: ReceivedGoods,
    *,
    number: str,
    credited: dict[uuid.UUID, Credited],
    returned: dict[uuid.UUID, Decimal],
    now: datetime,
) -> CreditNote | None:
    """The credit note of a goods receipt (None when its resolution credits nothing, or nothing of
    it is left to credit). Its gross takes first what the invoice still owes; the rest is refunded
    or credited to the account, by the resolution (`CreditNote.issue`)."""
    settlement = goods.settlement
    if settlement is None:
        return None
    lines = credit_lines(invoice, goods, credited)
    if not worth_a_note(lines):
        return None
    return CreditNote.issue(
        number=number,
        invoice=invoice,
        lines=lines,
        reason=Reason.RETURNED_GOODS,
        cause_id=str(goods.receipt_id),
        settlement=settlement,
        by=ISSUED_BY,
        now=now,
        note=f"Goods returned: receipt {goods.receipt_number} of return {goods.rma_number}",
        returned=returned,
        rma_id=goods.rma_id,
        receipt_id=goods.receipt_id,
        receipt_number=goods.receipt_number,
    )
