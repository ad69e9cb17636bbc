"""Quotes: an admin prepares one for any account and sends it; the account's customer sees it (never
a draft), accepts it (ONE order at the quote's prices, however often and however many at once) or
rejects it; the quotes job tells when one expires soon and expires it once its date has passed.

One unit of work per command, the quote row locked (SELECT ... FOR UPDATE) before it changes: two
accepts at once take turns, and the second finds the quote accepted and answers the first's order.
A line's item must be visible to the quote's account (orders' copy of catalog's access groups,
`Visibility`) and offered, when the admin puts it on the quote and again when the customer accepts.
Another account's quote, and a draft for a customer, answer 404 like a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import Protocol

from orders.adapters.quote_repository import QuoteRepository
from orders.domain.offers import tax_rates
from orders.domain.quotes import CUSTOMER_STATUSES, LineIn, Quote, Status, place_order, quote_line
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, business_date
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.lifecycle import Transition
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

JOB = "quotes"  # who the job's history rows name


class Visibility(Protocol):
    """Orders' visibility check (orders.service.visibility.Visibility): the given ids the account may NOT see."""

    async def check(self, session, account_id: str, item_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]: ...


@dataclass(frozen=True)
class QuoteDraft:
    """What an admin gives for a draft: its account, lines, validity and note."""

    account_id: str
    lines: Sequence[LineIn]
    valid_until: date
    note: str | None = None


class QuoteService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, tz: tzinfo, visibility: Visibility) -> None:
        self.uow = uow
        self.clock = clock
        self.tz = tz
        self.visibility = visibility

    def today(self) -> date:
        return business_date(self.clock.now(), self.tz)

    # -- the admin's -----------------------------------------------------------------------
    async def prepare(self, admin: Principal, draft: QuoteDraft) -> Quote:
        async with self.uow() as uow:
            quotes = QuoteRepository(uow)
            lines = await self._priced(uow, draft.account_id, draft.lines)
            quote = Quote.prepare(
                account_id=draft.account_id,
                number="",
                lines=lines,
                valid_until=draft.valid_until,
                note=draft.note,
                today=self.today(),
                by=admin.actor,
                now=self.clock.now(),
            )
            quote.number = await quotes.next_number()  # only once it is valid: numbers have no gaps
            quotes.add(quote)
            await uow.commit()
        return quote

    async def revise(self, admin: Principal, quote_id: uuid.UUID, draft: QuoteDraft) -> Quote:
        """A draft's lines, validity and note replaced (its account stays)."""
        async with self.uow() as uow:
            quote = await self._load(uow, admin, quote_id, lock=True)
            if draft.account_id != quote.account_id:
                raise Conflict(
                    f"quote {quote.number} is for account {quote.account_id}",
                    field="account_id",
                    current_status=str(quote.status),
                )
            quote.revise(
                lines=await self._priced(uow, quote.account_id, draft.lines),
                valid_until=draft.valid_until,
                note=draft.note,
                today=self.today(),
                now=self.clock.now(),
            )
            await uow.commit()
        return quote

    async def send(self, admin: Principal, quote_id: uuid.UUID) -> Quote:
        """Sent (QuoteSent: the account is emailed); its items are checked against the account's
        visibility again (groups may have changed since the draft)."""
        async with self.uow() as uow:
            quote = await self._load(uow, admin, quote_id, lock=True)
            if quote.status == Status.DRAFT:
                await self._still_available(uow, quote)
            quote.send(today=self.today(), by=admin.actor, now=self.clock.now())
            await uow.commit()
        return quote

    # -- the customer's --------------------------------------------------------------------
    async def accept(self, actor: Principal, quote_id: uuid.UUID) -> uuid.UUID:
        """The id of the quote's one order: placed now (QuoteAccepted, OrderPlaced source quote), or
        the one placed when it was accepted before (nothing more is placed)."""
        async with self.uow() as uow:
            quote = await self._load(uow, actor, quote_id, lock=True, own=True)
            today = self.today()
            if not quote.check_acceptable(today):
                return quote.order_id
            await self._still_available(uow, quote)
            now = self.clock.now()
            order = place_order(
                quote,
                number=await uow.orders.next_number(today.year),
                by=actor.actor,
                now=now,
                today=today,
                payment_terms_days=await uow.terms.days(quote.account_id),
                tax_rates=tax_rates(await uow.offers.many(quote.item_ids)),
            )
            uow.orders.add(order)
            quote.accept(order, today=today, by=actor.actor, now=now)
            await uow.commit()
        return order.id

    async def reject(self, actor: Principal, quote_id: uuid.UUID, reason: str | None) -> Quote:
        async with self.uow() as uow:
            quote = await self._load(uow, actor, quote_id, lock=True, own=True)
            quote.reject(reason, by=actor.actor, now=self.clock.now())
            await uow.commit()
        return quote

    # -- reads -----------------------------------------------------------------------------
    async def get(self, actor: Principal, quote_id: uuid.UUID) -> Quote:
        async with self.uow() as uow:
            return await self._load(uow, actor, quote_id)

    async def list(
        self, actor: Principal, page: PageRequest, *, status: Status | None = None, account_id: str | None = None
    ) -> Slice[Quote]:
        """A customer its own account's quotes but drafts; an admin every account's (or
        `account_id`'s), drafts too."""
        scope = actor.scope(account_id)
        visible = set(Status) if actor.is_admin else set(CUSTOMER_STATUSES)
        if scope.empty or (status is not None and status not in visible):
            return Slice.empty(page)
        async with self.uow() as uow:
            return await QuoteRepository(uow).page(scope, page, statuses=[status] if status else sorted(visible))

    async def history(self, actor: Principal, quote_id: uuid.UUID) -> list[Transition]:
        return list((await self.get(actor, quote_id)).history)

    # -- helpers ---------------------------------------------------------------------------
    async def _priced(self, uow, account_id: str, lines: Sequence[LineIn]):
        """The lines priced from orders' catalog copy; an item the account may not see is refused
        exactly as an unknown one."""
        ids = [line.item_id for line in lines]
        offers = await uow.offers.many(ids)
        hidden = await self.visibility.check(uow.session, account_id, ids) if ids else set()
        seen = {item_id: offer for item_id, offer in offers.items() if item_id not in hidden}
        return [quote_line(line, seen, at=f"lines[{i}]") for i, line in enumerate(lines)]

    async def _still_available(self, uow, quote: Quote) -> None:
        """409 naming the first line whose item the account may no longer see or that is retired."""
        hidden = await self.visibility.check(uow.session, quote.account_id, quote.item_ids)
        offers = await uow.offers.many(quote.item_ids)
        for i, line in enumerate(quote.lines):
            offer = offers.get(line.item_id)
            if line.item_id in hidden or offer is None or not offer.is_offered:
                raise Conflict(
                    f"item {line.item_id} ({line.name}) of quote {quote.number} is no longer offered to the account",
                    field=f"lines[{i}].item_id",
                    current_status=str(quote.status),
                    item_id=str(line.item_id),
                )

    @staticmethod
    async def _load(uow, actor: Principal, quote_id: uuid.UUID, *, lock: bool = False, own: bool = False) -> Quote:
        """The quote (locked when `lock`). An admin may see any; a customer its own account's but
        drafts. `own`: only the quote's account acts on it (accept, reject)."""
        quote = await QuoteRepository(uow).get(quote_id, for_update=lock)
        if quote is None:
            raise NotFound(f"no quote {quote_id}", field="quote_id")
        mine = quote.account_id == actor.account_id
        allowed = mine if own else actor.owns(quote.account_id)
        if not allowed or (quote.status == Status.DRAFT and not actor.is_admin):
            raise NotFound(f"no quote {quote_id}", field="quote_id")
        return quote


# -- the job -------------------------------------------------------------------------------
@dataclass
class QuoteRun:
    as_of: date
    expiring: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)

    def answer(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "expiring": self.expiring, "expired": self.expired}


class QuoteJob:
    """The `quotes` job as of a date: QuoteExpiring for each sent quote valid until at most
    `days_before` days later (once per quote), QuoteExpired for each sent quote whose valid_until has
    passed. One transaction per quote, its row locked (an accept at the same moment takes turns with
    it); run again as of the same date, or a later one, it finds nothing more to do."""

    def __init__(self, uow: UnitsOfWork, clock: Clock, *, days_before: int = 3) -> None:
        self.uow = uow
        self.clock = clock
        self.days_before = days_before

    async def run(self, as_of: date) -> dict:
        async with self.uow() as uow:
            candidates = await QuoteRepository(uow).sent_until(as_of + timedelta(days=self.days_before))
        run = QuoteRun(as_of)
        for quote_id in candidates:
            async with self.uow() as uow:
                quote = await QuoteRepository(uow).get(quote_id, for_update=True)
                now = self.clock.now()
                if quote.expire(as_of, by=JOB, now=now):
                    run.expired.append(quote.number)
                elif quote.notice_expiring(as_of, self.days_before, now=now):
                    run.expiring.append(quote.number)
                await uow.commit()
        return run.answer()
