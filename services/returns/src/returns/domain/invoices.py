"""An invoice goods may be returned against: billing's invoice as far as returns needs it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InvoicedLine:
    description: str
    quantity: int
    line_id: uuid.UUID | None = None  # billing's line id (InvoiceIssued v2); None on older copies
    sku: str | None = None  # the catalog's SKU, where billing knew it


@dataclass(frozen=True)
class ReturnableInvoice:
    invoice_id: uuid.UUID
    number: str
    account_id: str
    lines: tuple[InvoicedLine, ...]
    issued_at: datetime
    # What the invoice bills (InvoiceIssued v2): `order` and the order's id for goods; None on copies
    # known only from version 1.
    source_kind: str | None = None
    source_id: str | None = None

    def belongs_to(self, account_id: str) -> bool:
        return self.account_id == account_id

    @property
    def order_id(self) -> uuid.UUID | None:
        """The order whose goods the invoice bills (its lines' ids are the order lines' ids): only
        what has shipped of them may be returned. None for other invoices."""
        if self.source_kind != "order" or not self.source_id:
            return None
        try:
            return uuid.UUID(self.source_id)
        except ValueError:
            return None

    @property
    def has_line_ids(self) -> bool:
        return bool(self.lines) and all(line.line_id is not None for line in self.lines)

    def line(self, line_id: uuid.UUID) -> InvoicedLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)

    def described(self, description: str) -> list[InvoicedLine]:
        return [line for line in self.lines if line.description == description]

    def invoiced(self, sku: str) -> int | None:
        """How many of `sku` (a line description) were invoiced; None when no line has it.
        Lines with the same description add up."""
        quantities = [line.quantity for line in self.described(sku)]
        return sum(quantities) if quantities else None
