"""Support requests: a customer user sends one (optionally about one of its orders) and replies on
it; admins list, answer and close them. A customer sees only its account's requests (another's is
404, as an unknown one). The sender's contact is the portal user's own (orders' users); a caller
that is no portal user (a token from `./portal token` or an identity provider) is reached at its
account's profile address."""

from __future__ import annotations

import uuid

from orders.adapters.support_repository import SupportRepository
from orders.adapters.user_contacts import contact_of
from orders.domain.support import Sender, Status, SupportRequest
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


class SupportService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def send(
        self, actor: Principal, *, subject: str, message: str, order_id: uuid.UUID | None = None
    ) -> SupportRequest:
        async with self.uow() as uow:
            if order_id is not None:
                order = await uow.orders.get(order_id)
                if order is None or order.account_id != actor.account_id:
                    raise NotFound(f"no order {order_id}", field="order_id")
            sender = await self._sender(uow, actor)
            support = SupportRepository(uow)
            request = support.add(
                SupportRequest.send(
                    number=await support.next_number(),
                    account_id=actor.account_id,
                    sender=sender,
                    subject=subject,
                    message=message,
                    order_id=order_id,
                    by=actor.actor,
                    now=self.clock.now(),
                )
            )
            await uow.commit()
        return request

    async def reply(self, actor: Principal, request_id: uuid.UUID, message: str) -> SupportRequest:
        async with self.uow() as uow:
            request = await self._load(uow, actor, request_id, lock=True)
            request.reply(message, by=actor.actor, now=self.clock.now())
            await uow.commit()
        return request

    async def answer(self, admin: Principal, request_id: uuid.UUID, message: str) -> SupportRequest:
        async with self.uow() as uow:
            request = await self._load(uow, admin, request_id, lock=True)
            request.answer(message, by=admin.actor, now=self.clock.now())
            await uow.commit()
        return request

    async def close(self, admin: Principal, request_id: uuid.UUID, note: str | None = None) -> SupportRequest:
        async with self.uow() as uow:
            request = await self._load(uow, admin, request_id, lock=True)
            request.close(by=admin.actor, now=self.clock.now(), note=note)
            await uow.commit()
        return request

    async def get(self, actor: Principal, request_id: uuid.UUID) -> SupportRequest:
        async with self.uow() as uow:
            return await self._load(uow, actor, request_id)

    async def list(
        self, actor: Principal, page: PageRequest, *, status: Status | None = None, account_id: str | None = None
    ) -> Slice[SupportRequest]:
        scope = actor.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await SupportRepository(uow).page(scope, page, status=status)

    @staticmethod
    async def _load(uow, actor: Principal, request_id: uuid.UUID, *, lock: bool = False) -> SupportRequest:
        request = await SupportRepository(uow).get(request_id, for_update=lock)
        if request is None or not actor.owns(request.account_id):
            raise NotFound(f"no support request {request_id}", field="request_id")
        return request

    @staticmethod
    async def _sender(uow, actor: Principal) -> Sender:
        contact = await contact_of(uow.session, actor.account_id, actor.user_id)
        if contact is not None:
            return Sender(contact.login, contact.name, contact.email, contact.language)
        profile = await uow.profiles.get(actor.account_id)
        if profile is None:
            raise Conflict(
                "set the account's contact email first (PUT /v1/account/profile): the answer is emailed there",
                field="email",
            )
        return Sender(actor.user_id, actor.user_id, profile.email, profile.language)
