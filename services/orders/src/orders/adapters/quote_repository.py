"""Loading and storing quotes inside orders' unit of work (`QuoteRepository(uow)`): a quote with its
lines and history, its gapless number, the quotes the job looks at."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from orders.adapters.quote_tables import QuoteCounterRow, QuoteHistoryRow, QuoteLineRow, QuoteRow
from orders.adapters.repository import _History, _transition
from orders.domain.quotes import Quote, QuoteLine, Status
from portal_runtime.auth import AccountScope
from portal_runtime.lifecycle import Transition
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork

_QUOTE = (
    "id",
    "number",
    "account_id",
    "valid_until",
    "note",
    "created_at",
    "created_by",
    "updated_at",
    "sent_at",
    "order_id",
    "reason",
    "expiring_noticed_at",
)
_LINE = ("line_id", "item_id", "sku", "name", "kind", "cycle", "quantity", "unit_price", "amount", "currency")


class QuoteRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._history = _History(self.session, QuoteHistoryRow, "quote_id")
        self._lines: dict[uuid.UUID, tuple[QuoteLine, ...]] = {}  # as loaded: rewritten only when changed

    async def next_number(self) -> str:
        """`Q-000001`: the next of one gapless series (the counter stays locked until commit)."""
        await self.session.execute(
            insert(QuoteCounterRow).values(name="quotes", last_number=0).on_conflict_do_nothing()
        )
        counter = await self.session.scalar(
            select(QuoteCounterRow).where(QuoteCounterRow.name == "quotes").with_for_update()
        )
        counter.last_number += 1
        await self.session.flush()
        return f"Q-{counter.last_number:06d}"

    async def get(self, quote_id: uuid.UUID, *, for_update: bool = False) -> Quote | None:
        """The quote; `for_update` locks its row (SELECT ... FOR UPDATE) until the unit of work ends:
        two accepts at once take turns, and the second sees the first's order."""
        stmt = select(QuoteRow).where(QuoteRow.id == quote_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        return self.uow.track((await self._quotes([row]))[0], self)

    async def _quotes(self, rows: list[QuoteRow], *, history: bool = True) -> list[Quote]:
        ids = [r.id for r in rows]
        lines: dict[uuid.UUID, list[QuoteLine]] = {i: [] for i in ids}
        steps: dict[uuid.UUID, list[Transition]] = {i: [] for i in ids}
        if ids:
            stmt = select(QuoteLineRow).where(QuoteLineRow.quote_id.in_(ids)).order_by(QuoteLineRow.position)
            for line in await self.session.scalars(stmt):
                lines[line.quote_id].append(QuoteLine(**{f: getattr(line, f) for f in _LINE}))
            if history:
                stmt = select(QuoteHistoryRow).where(QuoteHistoryRow.quote_id.in_(ids)).order_by(QuoteHistoryRow.id)
                for step in await self.session.scalars(stmt):
                    steps[step.quote_id].append(_transition(step, Status))
        found = []
        for row in rows:
            quote = Quote(
                **{f: getattr(row, f) for f in _QUOTE},
                status=Status(row.status),
                lines=tuple(lines[row.id]),
                history=steps[row.id],
            )
            self._history.loaded(quote.id, len(quote.history))
            self._lines[quote.id] = quote.lines
            found.append(quote)
        return found

    def add(self, quote: Quote) -> Quote:
        return self.uow.track(quote, self)

    async def save(self, quote: Quote) -> None:
        row = await self.session.get(QuoteRow, quote.id)
        if row is None:
            row = QuoteRow(id=quote.id)
            self.session.add(row)
        for f in _QUOTE[1:]:
            setattr(row, f, getattr(quote, f))
        row.status, row.currency, row.total = str(quote.status), quote.currency, quote.total
        await self.session.flush()  # the quote before its lines and history
        if self._lines.get(quote.id) != quote.lines:
            await self.session.execute(delete(QuoteLineRow).where(QuoteLineRow.quote_id == quote.id))
            self.session.add_all(
                QuoteLineRow(**{f: getattr(line, f) for f in _LINE}, quote_id=quote.id, position=position)
                for position, line in enumerate(quote.lines)
            )
            self._lines[quote.id] = quote.lines
        self._history.append(quote.id, quote.history)
        await self.session.flush()

    async def page(
        self, scope: AccountScope, page: PageRequest, *, statuses: Iterable[Status] | None = None
    ) -> Slice[Quote]:
        """Newest first, in the scope's account (every account when None), in `statuses` (all when None)."""
        stmt = select(QuoteRow).order_by(QuoteRow.created_at.desc(), QuoteRow.id)
        if scope.account_id is not None:
            stmt = stmt.where(QuoteRow.account_id == scope.account_id)
        if statuses is not None:
            stmt = stmt.where(QuoteRow.status.in_([str(s) for s in statuses]))
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice(await self._quotes(list(rows), history=False), total, page.limit, page.offset)

    async def sent_until(self, on_or_before: date) -> list[uuid.UUID]:
        """The sent quotes valid until `on_or_before` or earlier (the job's candidates), by validity."""
        stmt = (
            select(QuoteRow.id)
            .where(QuoteRow.status == str(Status.SENT), QuoteRow.valid_until <= on_or_before)
            .order_by(QuoteRow.valid_until, QuoteRow.number)
        )
        return list(await self.session.scalars(stmt))
