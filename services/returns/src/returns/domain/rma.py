"""An RMA (return merchandise authorisation): a customer's request to send invoiced goods back,
the admin's decision on it, and the receipt of the goods."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import Lifecycle, Transition
from returns.domain.events import (
    GoodsReceived,
    ReturnApproved,
    ReturnClosed,
    ReturnCompleted,
    ReturnExpectedDateChanged,
    ReturnRejected,
    ReturnRequested,
    RmaEvent,
)
from returns.domain.invoices import ReturnableInvoice


class Status(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    COMPLETED = "completed"
    CLOSED = "closed"


class Resolution(StrEnum):
    REFUND = "refund"
    CREDIT = "credit"
    REPLACE = "replace"
    REPAIR = "repair"


PROBLEM_MAX = 2000
RECEIVE, RECEIVE_PART, CHANGE_DATE = "receive", "receive part of", "change the expected date of"
LIFECYCLE = Lifecycle(
    "return",
    {
        (Status.REQUESTED, "approve"): Status.APPROVED,
        (Status.REQUESTED, "reject"): Status.REJECTED,
        (Status.APPROVED, RECEIVE): Status.RECEIVED,
        (Status.PARTLY_RECEIVED, RECEIVE): Status.RECEIVED,
        (Status.APPROVED, RECEIVE_PART): Status.PARTLY_RECEIVED,
        (Status.PARTLY_RECEIVED, RECEIVE_PART): Status.PARTLY_RECEIVED,
        (Status.APPROVED, CHANGE_DATE): Status.APPROVED,
        (Status.PARTLY_RECEIVED, CHANGE_DATE): Status.PARTLY_RECEIVED,
        (Status.RECEIVED, "complete"): Status.COMPLETED,
        (Status.COMPLETED, "close"): Status.CLOSED,
        (Status.REJECTED, "close"): Status.CLOSED,
    },
)


@dataclass(frozen=True)
class ReturnLine:
    """A line to send back. It names the invoice line by `line_id`; `sku` is the invoice line's
    description (what clients sent before line ids: still accepted, and resolved to the line's id
    where the invoice has ids). `received`: how many of it goods receipts recorded so far."""

    sku: str
    quantity: int
    reason: str
    line_id: uuid.UUID | None = None
    received: int = 0

    @property
    def claim_key(self) -> str:
        """What earlier returns' claims are counted by: the line id, or (older invoices) the sku."""
        return str(self.line_id) if self.line_id is not None else self.sku

    @property
    def remaining(self) -> int:
        return self.quantity - self.received


@dataclass(frozen=True)
class ReceiptLine:
    line_id: uuid.UUID | None  # the invoice line's id (None on invoices without ids)
    description: str
    quantity: int


@dataclass(frozen=True)
class ReceiptRequest:
    """A line of a goods receipt as the admin names it: the invoice line's id, or its description."""

    quantity: int
    line_id: uuid.UUID | None = None
    sku: str | None = None


@dataclass(frozen=True)
class GoodsReceipt:
    """What arrived for an approved RMA, numbered GR-YYYY-NNNNNN in its own series."""

    id: uuid.UUID
    number: str
    rma_id: uuid.UUID
    rma_number: str
    account_id: str
    invoice_number: str
    lines: tuple[ReceiptLine, ...]
    note: str | None
    received_at: datetime
    received_by: str


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
    number: str | None = None  # RMA-2026-000001 (None only on requests made before numbers)
    invoice_id: uuid.UUID | None = None
    problem: str | None = None
    resolution: Resolution | None = None
    expected_on: date | None = None
    # Every step of its life, oldest first (the one history row shape: at, by, from, to, note).
    history: list[Transition[Status]] = field(default_factory=list)
    receipts: list[GoodsReceipt] = field(default_factory=list)  # oldest first
    events: list[RmaEvent] = field(default_factory=list, repr=False)

    @property
    def claims(self) -> bool:
        """Its lines hold invoiced quantity unless it was rejected (also once closed after that)."""
        return self.status != Status.REJECTED and self.reject_reason is None

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
        number: str | None = None,
        problem: str | None = None,
        shipped: Mapping[str, int] | None = None,
    ) -> Rma:
        """A return of `lines` of the caller's invoice, asked for by `by` (a user of the account,
        as history records it). `claimed` is what the invoice's other returns that were not rejected
        hold, by line id (as text), or by sku on invoices without line ids. `shipped`, for an invoice
        of an order's goods, is how many of each line (by line id as text) have shipped: no more may
        be returned (None: not goods, the invoiced quantity counts). Another account's invoice reads
        as an unknown one."""
        if invoice is None or not invoice.belongs_to(account_id):
            raise InvalidInput(
                f"no invoice {invoice_number!r} of yours to return goods against", field="invoice_number"
            )
        checked = _check_lines(invoice, lines, claimed, shipped)
        if problem is not None:
            problem = problem.strip()
            if not problem:
                raise InvalidInput("describe the problem (or leave problem out)", field="problem")
            if len(problem) > PROBLEM_MAX:
                raise InvalidInput(f"problem is at most {PROBLEM_MAX} characters", field="problem")
        else:
            problem = "; ".join(dict.fromkeys(line.reason for line in checked))[:PROBLEM_MAX]
        rma = cls(
            id=uuid.uuid4(),
            account_id=account_id,
            invoice_number=invoice.number,
            lines=checked,
            status=Status.REQUESTED,
            requested_at=now,
            updated_at=now,
            number=number,
            invoice_id=invoice.invoice_id,
            problem=problem,
        )
        rma.history.append(LIFECYCLE.begin(Status.REQUESTED, by=by, at=now))
        rma.events.append(
            ReturnRequested(
                rma_id=rma.id,
                account_id=account_id,
                invoice_number=rma.invoice_number,
                lines=checked,
                at=now,
                number=number,
                invoice_id=invoice.invoice_id,
                problem=problem,
            )
        )
        return rma

    def approve(
        self,
        *,
        by: str,
        now: datetime,
        today: date,
        expected_on: date,
        resolution: Resolution = Resolution.REFUND,
        note: str | None = None,
    ) -> None:
        """Approved: what will be done (`resolution`) and by when (`expected_on`, not before `today`,
        the business date)."""
        LIFECYCLE.target(self.status, "approve")  # a decided return conflicts before its input is checked
        if expected_on < today:
            raise InvalidInput(f"expected_on must not be before {today.isoformat()}", field="expected_on")
        note = _note(note)
        self._move("approve", by=by, now=now, note=note)
        self.resolution, self.expected_on = Resolution(resolution), expected_on
        self.events.append(
            ReturnApproved(
                rma_id=self.id,
                number=self._number,
                account_id=self.account_id,
                invoice_id=self.invoice_id,
                invoice_number=self.invoice_number,
                resolution=self.resolution,
                expected_on=expected_on,
                lines=self.lines,
                note=note,
                by=by,
                at=now,
            )
        )

    def reject(self, reason: str, *, by: str, now: datetime) -> None:
        LIFECYCLE.target(self.status, "reject")  # a decided return conflicts before a reason is asked for
        reason = reason.strip()
        if not reason:
            raise InvalidInput("a rejection needs a reason", field="reason")
        self._move("reject", by=by, now=now, note=reason)
        self.reject_reason = reason
        self.events.append(
            ReturnRejected(
                rma_id=self.id,
                number=self._number,
                account_id=self.account_id,
                invoice_number=self.invoice_number,
                reason=reason,
                by=by,
                at=now,
            )
        )

    def change_expected_date(
        self, expected_on: date, *, by: str, now: datetime, today: date, note: str | None = None
    ) -> None:
        """A new expected completion date (approved or partly received returns only)."""
        LIFECYCLE.target(self.status, CHANGE_DATE)
        previous = self.expected_on
        if expected_on < today:
            raise InvalidInput(f"expected_on must not be before {today.isoformat()}", field="expected_on")
        if expected_on == previous:
            raise InvalidInput(f"the expected date already is {expected_on.isoformat()}", field="expected_on")
        note = _note(note)
        said = f"expected {previous.isoformat() if previous else '-'} -> {expected_on.isoformat()}"
        self._move(CHANGE_DATE, by=by, now=now, note=f"{said}: {note}" if note else said)
        self.expected_on = expected_on
        self.events.append(
            ReturnExpectedDateChanged(
                rma_id=self.id,
                number=self._number,
                account_id=self.account_id,
                invoice_number=self.invoice_number,
                expected_on=expected_on,
                previous_expected_on=previous or expected_on,
                note=note,
                by=by,
                at=now,
            )
        )

    def receive(
        self,
        lines: Sequence[ReceiptRequest] | None,
        *,
        receipt_id: uuid.UUID,
        number: str,
        by: str,
        now: datetime,
        note: str | None = None,
    ) -> GoodsReceipt:
        """A goods receipt: what arrived (`lines`; None: everything still to come). Never more of a
        line than was approved less what earlier receipts recorded."""
        LIFECYCLE.target(self.status, RECEIVE)  # only approved or partly received returns take goods
        arrived = self._arrived(lines)
        note = _note(note)
        updated = list(self.lines)
        for index, quantity in arrived.items():
            updated[index] = replace(updated[index], received=updated[index].received + quantity)
        self.lines = tuple(updated)
        receipt = GoodsReceipt(
            id=receipt_id,
            number=number,
            rma_id=self.id,
            rma_number=self._number,
            account_id=self.account_id,
            invoice_number=self.invoice_number,
            lines=tuple(
                ReceiptLine(line_id=self.lines[i].line_id, description=self.lines[i].sku, quantity=q)
                for i, q in arrived.items()
            ),
            note=note,
            received_at=now,
            received_by=by,
        )
        done = all(line.remaining == 0 for line in self.lines)
        self._move(RECEIVE if done else RECEIVE_PART, by=by, now=now, note=f"{number}: {note}" if note else number)
        self.receipts.append(receipt)
        self.events.append(
            GoodsReceived(
                receipt=receipt,
                invoice_id=self.invoice_id,
                resolution=self.resolution or Resolution.REFUND,
                rma_status=self.status,
            )
        )
        return receipt

    def complete(self, *, by: str, now: datetime, note: str | None = None) -> None:
        self._move("complete", by=by, now=now, note=_note(note))
        self.events.append(ReturnCompleted(rma_id=self.id, account_id=self.account_id, by=by, at=now))

    def close(self, *, by: str, now: datetime, note: str | None = None) -> None:
        self._move("close", by=by, now=now, note=_note(note))
        self.events.append(ReturnClosed(rma_id=self.id, account_id=self.account_id, by=by, at=now))

    @property
    def _number(self) -> str:
        return self.number or f"RMA-{self.id}"

    def _arrived(self, lines: Sequence[ReceiptRequest] | None) -> dict[int, int]:
        """By position of the RMA's line, the quantity that arrived (checked)."""
        if lines is None:
            return {i: line.remaining for i, line in enumerate(self.lines) if line.remaining > 0}
        if not lines:
            raise InvalidInput("a goods receipt needs at least one line", field="lines")
        arrived: dict[int, int] = {}
        for i, asked in enumerate(lines):
            at = f"lines[{i}]"
            index = self._line_index(asked, at)
            if index in arrived:
                raise InvalidInput(
                    f"{self.lines[index].sku!r} appears twice; put it on one line", field=f"{at}.line_id"
                )
            if asked.quantity < 1:
                raise InvalidInput("quantity must be at least 1", field=f"{at}.quantity")
            remaining = self.lines[index].remaining
            if asked.quantity > remaining:
                line = self.lines[index]
                raise InvalidInput(
                    f"at most {remaining} of {line.sku!r} can still arrive: {line.quantity} approved, "
                    f"{line.received} received",
                    field=f"{at}.quantity",
                    remaining=remaining,
                )
            arrived[index] = asked.quantity
        return arrived

    def _line_index(self, asked: ReceiptRequest, at: str) -> int:
        if asked.line_id is not None:
            for i, line in enumerate(self.lines):
                if line.line_id == asked.line_id:
                    return i
            raise InvalidInput(f"return {self._number} has no line {asked.line_id}", field=f"{at}.line_id")
        sku = (asked.sku or "").strip()
        found = [i for i, line in enumerate(self.lines) if line.sku == sku]
        if len(found) > 1:
            raise InvalidInput(
                f"return {self._number} has {len(found)} lines {sku!r}; name one by line_id", field=f"{at}.line_id"
            )
        if not found:
            raise InvalidInput(f"return {self._number} has no line {sku!r}", field=f"{at}.line_id")
        return found[0]

    def _move(self, action: str, *, by: str, now: datetime, note: str | None = None) -> None:
        step = LIFECYCLE.move(self.status, action, by=by, at=now, note=note)
        self.history.append(step)
        self.status = step.to_status
        self.updated_at = now


def _note(note: str | None) -> str | None:
    return (note or "").strip() or None


def _check_lines(
    invoice: ReturnableInvoice,
    lines: Sequence[ReturnLine],
    claimed: Mapping[str, int],
    shipped: Mapping[str, int] | None,
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
        returnable, said = invoiced, f"{invoiced} invoiced"
        if shipped is not None:  # goods of an order: only what has shipped
            sent = shipped.get(resolved.claim_key, 0) if resolved.line_id is not None else 0
            returnable, said = min(invoiced, sent), f"{said}, {sent} shipped"
        available = max(returnable - held, 0)
        if line.quantity > available:
            raise InvalidInput(
                f"at most {available} of {resolved.sku!r} can be returned: {said}, {held} in other returns",
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
