"""An RMA (return merchandise authorisation): a customer's request to send invoiced goods back,
the admin's decision on it, and the receipt of the goods."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import Lifecycle, Transition
from returns.domain.events import ReturnApproved, ReturnReceived, ReturnRejected, ReturnRequested, RmaEvent
from returns.domain.invoices import ReturnableInvoice


class Status(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"


# Returns whose lines use up the invoiced quantity: all but the rejected ones.
CLAIMING = (Status.REQUESTED, Status.APPROVED, Status.RECEIVED)
LIFECYCLE = Lifecycle(
    "return",
    {
        (Status.REQUESTED, "approve"): Status.APPROVED,
        (Status.REQUESTED, "reject"): Status.REJECTED,
        (Status.APPROVED, "receive"): Status.RECEIVED,
    },
)


@dataclass(frozen=True)
class ReturnLine:
    """A line to send back. It names the invoice line by `line_id`; `sku` is the invoice line's
    description (what clients sent before line ids: still accepted, and resolved to the line's id
    where the invoice has ids)."""

    sku: str
    quantity: int
    reason: str
    line_id: uuid.UUID | None = None

    @property
    def claim_key(self) -> str:
        """What earlier returns' claims are counted by: the line id, or (older invoices) the sku."""
        return str(self.line_id) if self.line_id is not None else self.sku


@dataclass
class Rma:
    id: uuid.UUID
    account_id: str
    invoice_number: str
    lines: tuple[ReturnLine, ...]
    status: Status
    requested_at: datetime
    updated_at: datetime
    reject_reason: str | None = None
    # Every step of its life, oldest first (the one history row shape: at, by, from, to, note).
    history: list[Transition[Status]] = field(default_factory=list)
    events: list[RmaEvent] = field(default_factory=list, repr=False)

    @classmethod
    def request(
        cls,
        *,
        invoice: ReturnableInvoice | None,
        account_id: str,
        by: str,
        invoice_number: str,
        lines: Sequence[ReturnLine],
        claimed: Mapping[str, int],
        now: datetime,
    ) -> Rma:
        """A return of `lines` of the caller's invoice, asked for by `by` (a user of the account,
        as history records it). `claimed` is what earlier returns of the invoice still hold, by line
        id (as text), or by sku on invoices without line ids. Another account's invoice reads as an
        unknown one."""
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
            status=Status.REQUESTED,
            requested_at=now,
            updated_at=now,
        )
        rma.history.append(LIFECYCLE.begin(Status.REQUESTED, by=by, at=now))
        rma.events.append(
            ReturnRequested(
                rma_id=rma.id, account_id=account_id, invoice_number=rma.invoice_number, lines=checked, at=now
            )
        )
        return rma

    def approve(self, *, by: str, now: datetime) -> None:
        self._move("approve", by=by, now=now)
        self.events.append(ReturnApproved(rma_id=self.id, account_id=self.account_id, by=by, at=now))

    def reject(self, reason: str, *, by: str, now: datetime) -> None:
        LIFECYCLE.target(self.status, "reject")  # a decided return conflicts before a reason is asked for
        reason = reason.strip()
        if not reason:
            raise InvalidInput("a rejection needs a reason", field="reason")
        self._move("reject", by=by, now=now, note=reason)
        self.reject_reason = reason
        self.events.append(ReturnRejected(rma_id=self.id, account_id=self.account_id, reason=reason, by=by, at=now))

    def receive(self, *, by: str, now: datetime) -> None:
        """The returned goods arrived (only after the return was approved)."""
        self._move("receive", by=by, now=now)
        self.events.append(ReturnReceived(rma_id=self.id, account_id=self.account_id, by=by, at=now))

    def _move(self, action: str, *, by: str, now: datetime, note: str | None = None) -> None:
        step = LIFECYCLE.move(self.status, action, by=by, at=now, note=note)
        self.history.append(step)
        self.status = step.to_status
        self.updated_at = now


def _check_lines(
    invoice: ReturnableInvoice, lines: Sequence[ReturnLine], claimed: Mapping[str, int]
) -> tuple[ReturnLine, ...]:
    if not lines:
        raise InvalidInput("a return needs at least one line", field="lines")
    checked: list[ReturnLine] = []
    for i, line in enumerate(lines):
        at = f"lines[{i}]"
        resolved, invoiced = _invoice_line(invoice, line, at)
        if any(c.claim_key == resolved.claim_key for c in checked):
            field = f"{at}.line_id" if line.line_id is not None else f"{at}.sku"
            raise InvalidInput(f"{resolved.sku!r} appears twice; put its whole quantity on one line", field=field)
        if line.quantity < 1:
            raise InvalidInput("quantity must be at least 1", field=f"{at}.quantity")
        held = claimed.get(resolved.claim_key, 0)
        available = max(invoiced - held, 0)
        if line.quantity > available:
            raise InvalidInput(
                f"at most {available} of {resolved.sku!r} can be returned: {invoiced} invoiced, "
                f"{held} in earlier returns",
                field=f"{at}.quantity",
                available=available,
            )
        reason = line.reason.strip()
        if not reason:
            raise InvalidInput("reason must not be empty", field=f"{at}.reason")
        checked.append(ReturnLine(sku=resolved.sku, quantity=line.quantity, reason=reason, line_id=resolved.line_id))
    return tuple(checked)


def _invoice_line(invoice: ReturnableInvoice, line: ReturnLine, at: str) -> tuple[ReturnLine, int]:
    """The invoice line `line` names (by line id, or by description) and how many it invoiced."""
    if line.line_id is not None:
        found = invoice.line(line.line_id)
        if found is None:
            raise InvalidInput(f"invoice {invoice.number} has no line {line.line_id}", field=f"{at}.line_id")
        if line.sku.strip() and line.sku.strip() != found.description:
            raise InvalidInput(
                f"line {line.line_id} of invoice {invoice.number} is {found.description!r}, not {line.sku.strip()!r}",
                field=f"{at}.sku",
            )
        return ReturnLine(found.description, line.quantity, line.reason, found.line_id), found.quantity
    sku = line.sku.strip()
    if not sku:
        raise InvalidInput("sku must not be empty (or name the invoice line by line_id)", field=f"{at}.sku")
    described = invoice.described(sku)
    if not described:
        raise InvalidInput(f"invoice {invoice.number} has no line {sku!r}", field=f"{at}.sku")
    if invoice.has_line_ids:
        if len(described) > 1:
            raise InvalidInput(
                f"invoice {invoice.number} has {len(described)} lines {sku!r}; name one by line_id",
                field=f"{at}.line_id",
            )
        return ReturnLine(sku, line.quantity, line.reason, described[0].line_id), described[0].quantity
    return ReturnLine(sku, line.quantity, line.reason), sum(d.quantity for d in described)
