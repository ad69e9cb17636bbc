"""Activation on payment, and the account's subscriptions."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders.adapters.events import to_contract
from orders.adapters.repository import RequestRepository, SubscriptionRepository
from orders.domain.subscriptions import Subscription, subscriptions_for
from portal_contracts import Event
from portal_contracts.events.billing import PaymentConfirmed
from portal_runtime.clock import Clock
from portal_runtime.errors import InvalidInput

log = logging.getLogger(__name__)


class SubscriptionService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def on_payment_confirmed(
        self, session: AsyncSession, event: PaymentConfirmed, publish: Callable[[Event], object]
    ) -> list[Subscription]:
        """The paid request's services become the account's subscriptions (in the consumer's
        transaction). A payment for no request of ours is not ours to act on; one seen again for
        an active request changes nothing. A request in any other state than approved raises
        Conflict: the event is retried, then dead-lettered for someone to look at."""
        if event.request_id is None:
            return []
        repo = RequestRepository(session)
        request = await repo.get(event.request_id, for_update=True)
        if request is None:
            log.info("payment %s names request %s, which orders does not know", event.number, event.request_id)
            return []
        if request.account_id != event.account_id:
            raise InvalidInput(
                f"payment {event.number} is for account {event.account_id}, request {request.id} belongs to another",
                field="account_id",
            )
        now = self.clock.now()
        if not request.activate(by="billing", now=now, note=f"invoice {event.number} paid"):
            return []
        subscriptions = subscriptions_for(request, activated_on=now.date(), now=now)
        await repo.save(request)
        await SubscriptionRepository(session).add_all(subscriptions)
        for step in request.changes:
            payload = to_contract(request, step, subscriptions)
            if payload is not None:
                publish(payload)
        request.changes.clear()
        return subscriptions

    async def for_account(self, account_id: str) -> list[Subscription]:
        async with self.sessions() as session:
            return await SubscriptionRepository(session).for_account(account_id)
