"""Activation on payment, and the accounts' subscriptions."""

from __future__ import annotations

import logging
import uuid

from orders.domain.subscriptions import Subscription
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import InvalidInput
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


class SubscriptionService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def activate_paid(self, request_id: uuid.UUID | None, account_id: str, invoice: str) -> list[Subscription]:
        """The paid request's lines become the account's active subscriptions (called by the
        consumer of PaymentConfirmed: joins its unit of work). A payment for no request of ours
        is not ours to act on; one seen again for an active request changes nothing. A request
        in any other state than approved is a 409: the event is retried, then dead-lettered for
        someone to look at."""
        if request_id is None:
            return []
        async with self.uow() as uow:
            request = await uow.requests.get(request_id, for_update=True)
            if request is None:
                log.info("payment %s names request %s, which orders does not know", invoice, request_id)
                return []
            if request.account_id != account_id:
                raise InvalidInput(
                    f"payment {invoice} is for account {account_id}, request {request.id} belongs to another",
                    field="account_id",
                )
            subscriptions = request.activate(by="billing", now=self.clock.now(), note=f"invoice {invoice} paid")
            for subscription in subscriptions:
                uow.subscriptions.add(subscription)
            await uow.commit()
        return subscriptions

    async def list(self, actor: Principal, account_id: str | None, page: PageRequest) -> Slice[Subscription]:
        """Customers list their own account's subscriptions; admins every account's, or `account_id`'s."""
        scope = actor.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.subscriptions.page(scope, page)
