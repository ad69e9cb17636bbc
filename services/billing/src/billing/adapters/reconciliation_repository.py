"""Reconciliation statements inside a unit of work: a new one stored whole on commit; a known one
with its answer (status, answered_at/by, dispute note) and the moves it made since it was loaded."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.reconciliation_tables import StatementCounterRow, StatementHistoryRow, StatementRow
from billing.domain.reconciliation import ReconciliationStatement, StatementStatus
from billing.domain.statements import StatementEntry
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import SqlRepository


def _entry_json(e: StatementEntry) -> dict:
    return {
        "on": e.on.isoformat(),
        "kind": e.kind,
        "document_number": e.document_number,
        "description": e.description,
        "debit": str(e.debit),
        "credit": str(e.credit),
        "balance": str(e.balance),
    }


def _entry(d: dict) -> StatementEntry:
    return StatementEntry(
        on=date.fromisoformat(d["on"]),
        kind=d["kind"],
        document_number=d["document_number"],
        description=d["description"],
        debit=Decimal(d["debit"]),
        credit=Decimal(d["credit"]),
        balance=Decimal(d["balance"]),
    )


class StatementRepository(SqlRepository):
    async def next_sequence(self, year: int) -> int:
        """The next number of `year`'s statement series (the counter row locked until commit)."""
        await self.session.execute(
            insert(StatementCounterRow).values(year=year, last_number=0).on_conflict_do_nothing()
        )
        counter = await self.session.scalar(
            select(StatementCounterRow).where(StatementCounterRow.year == year).with_for_update()
        )
        counter.last_number += 1
        await self.session.flush()
        return counter.last_number

    def add(self, statement: ReconciliationStatement) -> ReconciliationStatement:
        return self.uow.track(statement, self)

    async def get(self, statement_id: uuid.UUID, *, for_update: bool = False) -> ReconciliationStatement | None:
        stmt = select(StatementRow).where(StatementRow.id == statement_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        return self.uow.track(self._of(row), self)

    async def save(self, statement: ReconciliationStatement) -> None:
        row = await self.session.get(StatementRow, statement.id)
        if row is None:
            self.session.add(
                StatementRow(
                    id=statement.id,
                    number=statement.number,
                    account_id=statement.account_id,
                    currency=statement.currency,
                    period_start=statement.period_start,
                    period_end=statement.period_end,
                    opening_balance=statement.opening_balance,
                    debits=statement.debits,
                    credits=statement.credits,
                    closing_balance=statement.closing_balance,
                    entries=[_entry_json(e) for e in statement.entries],
                    status=statement.status,
                    note=statement.note,
                    issued_at=statement.issued_at,
                    issued_by=statement.issued_by,
                    answered_at=statement.answered_at,
                    answered_by=statement.answered_by,
                    dispute_note=statement.dispute_note,
                )
            )
            await self.session.flush()  # the statement before its history
        else:
            row.status = statement.status
            row.answered_at = statement.answered_at
            row.answered_by = statement.answered_by
            row.dispute_note = statement.dispute_note
        for step in statement.history:
            self.session.add(
                StatementHistoryRow(
                    statement_id=statement.id,
                    at=step.at,
                    by=step.by,
                    from_status=step.from_status,
                    to_status=step.to_status,
                    note=step.note,
                )
            )
        statement.history.clear()

    async def page(
        self, *, account_id: str | None, status: StatementStatus | None, page: PageRequest
    ) -> Slice[ReconciliationStatement]:
        stmt = select(StatementRow).order_by(StatementRow.issued_at.desc(), StatementRow.number.desc())
        if account_id is not None:
            stmt = stmt.where(StatementRow.account_id == account_id)
        if status is not None:
            stmt = stmt.where(StatementRow.status == status)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice([self._of(r) for r in rows], total, page.limit, page.offset)

    @staticmethod
    def _of(row: StatementRow) -> ReconciliationStatement:
        return ReconciliationStatement(
            id=row.id,
            number=row.number,
            account_id=row.account_id,
            currency=row.currency,
            period_start=row.period_start,
            period_end=row.period_end,
            opening_balance=row.opening_balance,
            debits=row.debits,
            credits=row.credits,
            closing_balance=row.closing_balance,
            entries=[_entry(e) for e in row.entries],
            status=StatementStatus(row.status),
            issued_at=row.issued_at,
            issued_by=row.issued_by,
            note=row.note,
            answered_at=row.answered_at,
            answered_by=row.answered_by,
            dispute_note=row.dispute_note,
        )
