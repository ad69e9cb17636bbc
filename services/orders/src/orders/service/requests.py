"""Service requests, the customer's side and the admin's review: one unit of work per command,
the request row locked before it changes; the state and its events commit together.

Who may touch a request: its own account acts on it (an admin too, on its own account's only);
an admin reviews and reads any; another account's request answers 404 like a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from orders.adapters.repository import RequestHeader
from orders.domain.offers import Offer
from orders.domain.pricing import Summary
from orders.domain.requests import ServiceRequest, Status
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.lifecycle import Transition
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

Offers = Mapping[uuid.UUID, Offer]


@dataclass(frozen=True)
class RequestView:
    request: ServiceRequest
    summary: Summary


@dataclass(frozen=True)
class RequestFilter:
    status: Status | None = None
    account_id: str | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None


class RequestService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    # -- the customer's commands ---------------------------------------------------------
    async def create(self, actor: Principal, lines: Sequence[tuple[uuid.UUID, int]] = ()) -> RequestView:
        if len({item_id for item_id, _ in lines}) != len(lines):
            raise InvalidInput("each item appears once in lines", field="lines")
        async with self.uow() as uow:
            offers = await _visible(uow, actor.account_id, await uow.offers.many(item_id for item_id, _ in lines))
            request = ServiceRequest.create(actor.account_id, by=actor.actor, now=self.clock.now())
            for i, (item_id, quantity) in enumerate(lines):
                request.set_line(item_id, quantity, offers, field=f"lines[{i}].item_id")
            uow.requests.add(request)
            await uow.commit()
        return RequestView(request, request.summary(offers))

    async def set_line(self, actor: Principal, request_id: uuid.UUID, item_id: uuid.UUID, quantity: int) -> RequestView:
        return await self._change(
            actor, request_id, lambda r, offers: r.set_line(item_id, quantity, offers), own=True, also=[item_id]
        )

    async def remove_line(self, actor: Principal, request_id: uuid.UUID, item_id: uuid.UUID) -> RequestView:
        return await self._change(actor, request_id, lambda r, _: r.remove_line(item_id), own=True)

    async def discard(self, actor: Principal, request_id: uuid.UUID) -> RequestView:
        return await self._change(
            actor, request_id, lambda r, _: r.discard(by=actor.actor, now=self.clock.now()), own=True
        )

    async def submit(self, actor: Principal, request_id: uuid.UUID) -> RequestView:
        return await self._change(
            actor, request_id, lambda r, offers: r.submit(offers, by=actor.actor, now=self.clock.now()), own=True
        )

    async def answer(self, actor: Principal, request_id: uuid.UUID, answer: str) -> RequestView:
        return await self._change(
            actor, request_id, lambda r, _: r.answer(answer, by=actor.actor, now=self.clock.now()), own=True
        )

    # -- the admin's review ----------------------------------------------------------------
    async def approve(self, admin: Principal, request_id: uuid.UUID) -> RequestView:
        return await self._change(admin, request_id, lambda r, _: r.approve(by=admin.actor, now=self.clock.now()))

    async def reject(self, admin: Principal, request_id: uuid.UUID, reason: str) -> RequestView:
        return await self._change(
            admin, request_id, lambda r, _: r.reject(reason, by=admin.actor, now=self.clock.now())
        )

    async def ask(self, admin: Principal, request_id: uuid.UUID, question: str) -> RequestView:
        return await self._change(admin, request_id, lambda r, _: r.ask(question, by=admin.actor, now=self.clock.now()))

    # -- reads -----------------------------------------------------------------------------
    async def get(self, actor: Principal, request_id: uuid.UUID) -> RequestView:
        async with self.uow() as uow:
            request = await self._load(uow, actor, request_id, lock=False)
            offers = await uow.offers.many(request.item_ids)
        return RequestView(request, request.summary(offers))

    async def history(self, actor: Principal, request_id: uuid.UUID, page: PageRequest) -> Slice[Transition]:
        async with self.uow() as uow:
            await self._load(uow, actor, request_id, lock=False)
            return await uow.requests.history(request_id, page)

    async def list(self, actor: Principal, f: RequestFilter, page: PageRequest) -> Slice[RequestHeader]:
        """Customers list their own account's requests; admins every account's, or `f.account_id`'s."""
        scope = actor.scope(f.account_id)
        # submitted_from after submitted_to is a range with nothing in it: an empty page
        if scope.empty or (f.submitted_from and f.submitted_to and f.submitted_from > f.submitted_to):
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.requests.page(
                scope, page, status=f.status, submitted_from=f.submitted_from, submitted_to=f.submitted_to
            )

    # -- helpers ---------------------------------------------------------------------------
    async def _change(
        self,
        actor: Principal,
        request_id: uuid.UUID,
        change: Callable[[ServiceRequest, Offers], object],
        *,
        own: bool = False,
        also: Sequence[uuid.UUID] = (),
    ) -> RequestView:
        """Load the request (locked), apply `change` with the offers of its lines (and `also`), commit."""
        async with self.uow() as uow:
            request = await self._load(uow, actor, request_id, own=own)
            offers = await uow.offers.many([*also, *request.item_ids])
            hidden = await uow.visibility.hidden(request.account_id, set(also) - set(request.item_ids))
            change(request, {item_id: o for item_id, o in offers.items() if item_id not in hidden})
            await uow.commit()
        return RequestView(request, request.summary(offers))

    @staticmethod
    async def _load(uow, actor: Principal, request_id: uuid.UUID, *, own: bool = False, lock: bool = True):
        """The request; another account's answers like an absent one. `own`: only its account
        may act (an admin too acts on its own account's requests only)."""
        request = await uow.requests.get(request_id, for_update=lock)
        allowed = request is not None and (
            request.account_id == actor.account_id if own else actor.owns(request.account_id)
        )
        if not allowed:
            raise NotFound(f"no request {request_id}")
        return request


async def _visible(uow, account_id: str, offers: Offers) -> Offers:
    """The offers `account_id` may see (orders' copy of catalog's access groups): an invisible item
    answers as one orders never heard of."""
    hidden = await uow.visibility.hidden(account_id, offers)
    return {item_id: o for item_id, o in offers.items() if item_id not in hidden}
