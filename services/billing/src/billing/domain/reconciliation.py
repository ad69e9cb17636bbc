"""A reconciliation statement: an admin issues one to a customer for a period and currency - the
account statement's figures (`billing.domain.statements.AccountStatement`: opening balance, the
entries dated in the period, debits, credits, closing balance) as they stood when it was issued,
numbered in its own gapless series per year (`ST-2026-000001`) - and the customer answers it once:
confirmed, or disputed with a note. Statuses: open → confirmed | disputed; a second answer is
refused (409 with the current status)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from billing.domain.statements import AccountStatement, StatementEntry
from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import Lifecycle, Transition

NOTE_MAX = 2000


def statement_number(year: int, sequence: int) -> str:
    """`ST-2026-000001`: the year of issue and the position in that year's gapless series."""
    if sequence < 1:
        raise ValueError("a statement sequence starts at 1")
    return f"ST-{year:04d}-{sequence:06d}"


class StatementStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


LIFECYCLE = Lifecycle(
    "statement",
    {
        (StatementStatus.OPEN, "confirm"): StatementStatus.CONFIRMED,
        (StatementStatus.OPEN, "dispute"): StatementStatus.DISPUTED,
    },
)


@dataclass(frozen=True)
class StatementIssued:
    statement: ReconciliationStatement


@dataclass(frozen=True)
class StatementConfirmed:
    statement: ReconciliationStatement


@dataclass(frozen=True)
class StatementDisputed:
    statement: ReconciliationStatement


def _note(text: str | None, *, field_: str, required: bool) -> str | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise InvalidInput("a note of 1 to 2000 characters is needed", field=field_)
        return None
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"a note has at most {NOTE_MAX} characters", field=field_)
    return text


@dataclass
class ReconciliationStatement:
    id: uuid.UUID
    number: str
    account_id: str
    currency: str
    period_start: date
    period_end: date
    opening_balance: Decimal
    debits: Decimal
    credits: Decimal
    closing_balance: Decimal
    entries: list[StatementEntry]
    status: StatementStatus
    issued_at: datetime
    issued_by: str
    note: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    dispute_note: str | None = None
    history: list[Transition[StatementStatus]] = field(default_factory=list)
    events: list[StatementIssued | StatementConfirmed | StatementDisputed] = field(default_factory=list, repr=False)

    @classmethod
    def issue(
        cls,
        *,
        number: str,
        figures: AccountStatement,
        today: date,
        by: str,
        now: datetime,
        note: str | None = None,
        statement_id: uuid.UUID | None = None,
    ) -> ReconciliationStatement:
        """The statement of `figures`' period (ending on or before `today`, the business date)."""
        check_period(figures.period_start, figures.period_end, today)
        statement = cls(
            id=statement_id or uuid.uuid4(),
            number=number,
            account_id=figures.account_id,
            currency=figures.currency,
            period_start=figures.period_start,
            period_end=figures.period_end,
            opening_balance=figures.opening_balance,
            debits=figures.debits,
            credits=figures.credits,
            closing_balance=figures.closing_balance,
            entries=list(figures.entries),
            status=StatementStatus.OPEN,
            issued_at=now,
            issued_by=by,
            note=_note(note, field_="note", required=False),
        )
        statement.history.append(
            Transition(at=now, by=by, from_status=None, to_status=StatementStatus.OPEN, note=statement.note)
        )
        statement.events.append(StatementIssued(statement))
        return statement

    def confirm(self, *, by: str, now: datetime) -> None:
        self._answer("confirm", by=by, now=now, note=None)
        self.events.append(StatementConfirmed(self))

    def dispute(self, *, note: str | None, by: str, now: datetime) -> None:
        text = _note(note, field_="note", required=True)
        self._answer("dispute", by=by, now=now, note=text)
        self.dispute_note = text
        self.events.append(StatementDisputed(self))

    def _answer(self, action: str, *, by: str, now: datetime, note: str | None) -> None:
        step = LIFECYCLE.move(self.status, action, by=by, at=now, note=note)
        self.status = step.to_status
        self.answered_at, self.answered_by = now, by
        self.history.append(step)


def check_period(period_start: date, period_end: date, today: date) -> None:
    if period_end < period_start:
        raise InvalidInput("the period ends on or after its start", field="period_end")
    if period_end > today:
        raise InvalidInput(
            "a statement is of days that have passed (the period ends today at the latest)", field="period_end"
        )
