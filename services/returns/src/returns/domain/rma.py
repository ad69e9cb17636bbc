"""An RMA (return merchandise authorisation): a customer's request to send invoiced goods back,
the admin's decision on it, and the receipt of the goods."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from portal_runtime.errors import Conflict, InvalidInput
from returns.domain.invoices import ReturnableInvoice

STATUSES = ("requested", "approved", "rejected", "received")
# Returns whose lines use up the invoiced quantity: all but the rejected ones.
CLAIMING = ("requested", "approved", "received")
_NEXT: dict[str, tuple[str, ...]] = {"requested": ("approved", "rejected"), "approved": ("received",)}


@dataclass(frozen=True)
class ReturnLine:
    sku: str
    quantity: int
    reason: str


@dataclass(frozen=True)
class Transition:
    """One step in an RMA's life, kept as its history."""

    from_status: str | None
    to_status: str
    by: str
    at: datetime
    reason: str | None = None


@dataclass
class Rma:
    id: uuid.UUID
    account_id: str
    invoice_number: str
    lines: tuple[ReturnLine, ...]
    status: str
    requested_at: datetime
    updated_at: datetime
    reject_reason: str | None = None
    changes: list[Transition] = field(default_factory=list, repr=False)

    @classmethod
    def request(
        cls,
        *,
        invoice: ReturnableInvoice | None,
        account_id: str,
        invoice_number: str,
        lines: Sequence[ReturnLine],
        claimed: Mapping[str, int],
        now: datetime,
    ) -> Rma:
        """A return of `lines` of the caller's invoice. `claimed` is what earlier returns of the
        invoice still hold, by sku. Another account's invoice reads as an unknown one."""
        if invoice is None or not invoice.belongs_to(account_id):
            raise InvalidInput(
                f"no invoice {invoice_number!r} of yours to return goods against", field="invoice_number"
            )
        checked = _check_lines(invoice, lines, claimed)
        rma = cls(
            id=uuid.uuid4(),
            account_id=account_id,
            invoice_number=invoice.number,
            lines=checked,
            status="requested",
            requested_at=now,
            updated_at=now,
        )
        rma.changes.append(Transition(None, "requested", by=account_id, at=now))
        return rma

    def approve(self, *, by: str, now: datetime) -> None:
        self._move("approved", by=by, now=now)

    def reject(self, reason: str, *, by: str, now: datetime) -> None:
        self._allow("rejected")
        reason = reason.strip()
        if not reason:
            raise InvalidInput("a rejection needs a reason", field="reason")
        self._move("rejected", by=by, now=now, reason=reason)
        self.reject_reason = reason

    def receive(self, *, by: str, now: datetime) -> None:
        """The returned goods arrived (only after the return was approved)."""
        self._move("received", by=by, now=now)

    def _allow(self, to: str) -> None:
        if to not in _NEXT.get(self.status, ()):
            raise Conflict(f"a return that is {self.status} cannot be {to}", current_status=self.status)

    def _move(self, to: str, *, by: str, now: datetime, reason: str | None = None) -> None:
        self._allow(to)
        self.changes.append(Transition(self.status, to, by=by, at=now, reason=reason))
        self.status = to
        self.updated_at = now


def _check_lines(
    invoice: ReturnableInvoice, lines: Sequence[ReturnLine], claimed: Mapping[str, int]
) -> tuple[ReturnLine, ...]:
    if not lines:
        raise InvalidInput("a return needs at least one line", field="lines")
    checked: list[ReturnLine] = []
    for i, line in enumerate(lines):
        at = f"lines[{i}]"
        sku, reason = line.sku.strip(), line.reason.strip()
        if not sku:
            raise InvalidInput("sku must not be empty", field=f"{at}.sku")
        if any(c.sku == sku for c in checked):
            raise InvalidInput(f"{sku!r} appears twice; put its whole quantity on one line", field=f"{at}.sku")
        invoiced = invoice.invoiced(sku)
        if invoiced is None:
            raise InvalidInput(f"invoice {invoice.number} has no line {sku!r}", field=f"{at}.sku")
        if line.quantity < 1:
            raise InvalidInput("quantity must be at least 1", field=f"{at}.quantity")
        held = claimed.get(sku, 0)
        available = max(invoiced - held, 0)
        if line.quantity > available:
            raise InvalidInput(
                f"at most {available} of {sku!r} can be returned: {invoiced} invoiced, {held} in earlier returns",
                field=f"{at}.quantity",
                available=available,
            )
        if not reason:
            raise InvalidInput("reason must not be empty", field=f"{at}.reason")
        checked.append(ReturnLine(sku=sku, quantity=line.quantity, reason=reason))
    return tuple(checked)
