"""Reading deliveries (scoped to the caller's account), and an admin's retry of a failed one. The
emails to the business (a customer's message in an order's thread, `Audience.BUSINESS`) are the
account's deliveries that only admins see: a customer's list leaves them out, and reading one is 404."""

from __future__ import annotations

import uuid

from notify.domain.deliveries import Audience, Delivery, Status
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


class DeliveryService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def list_deliveries(
        self,
        actor: Principal,
        *,
        account_id: str | None = None,
        status: Status | None = None,
        page: PageRequest = PageRequest(),
    ) -> Slice[Delivery]:
        """Newest first: a customer's own (another account's filter shows an empty page); an
        admin's, every account's or the one `account_id` names."""
        scope = actor.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.deliveries.page(
                account_id=scope.account_id, status=status, page=page, to_business=actor.is_admin
            )

    async def get_delivery(self, actor: Principal, delivery_id: uuid.UUID) -> Delivery:
        """Another account's delivery is 404, like a missing one."""
        async with self.uow() as uow:
            delivery = await uow.deliveries.get(delivery_id)
        hidden = delivery is not None and delivery.audience == Audience.BUSINESS and not actor.is_admin
        if delivery is None or hidden or not actor.owns(delivery.account_id):
            raise NotFound(f"no delivery {delivery_id}")
        return delivery

    async def retry(self, delivery_id: uuid.UUID) -> Delivery:
        """failed → pending, a fresh round of attempts from now (the sender takes it)."""
        async with self.uow() as uow:
            delivery = await uow.deliveries.get(delivery_id, for_update=True)
            if delivery is None:
                raise NotFound(f"no delivery {delivery_id}")
            delivery.retry(self.clock.now())
            await uow.commit()
        return delivery
