"""An invoice goods may be returned against: billing's invoice as far as returns needs it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InvoicedLine:
    description: str
    quantity: int


@dataclass(frozen=True)
class ReturnableInvoice:
    invoice_id: uuid.UUID
    number: str
    account_id: str
    lines: tuple[InvoicedLine, ...]
    issued_at: datetime

    def belongs_to(self, account_id: str) -> bool:
        return self.account_id == account_id

    def invoiced(self, sku: str) -> int | None:
        """How many of `sku` (a line description) were invoiced; None when no line has it.
        Lines with the same description add up."""
        quantities = [line.quantity for line in self.lines if line.description == sku]
        return sum(quantities) if quantities else None
