"""Reading deliveries, and an admin's retry of a failed one."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notify.adapters.repository import DeliveryRepository
from notify.domain.deliveries import Delivery
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound


class DeliveryService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def list_deliveries(
        self, *, account_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[Delivery], int]:
        async with self.sessions() as session:
            return await DeliveryRepository(session).page(
                account_id=account_id, status=status, limit=limit, offset=offset
            )

    async def get_delivery(self, delivery_id: uuid.UUID, *, owner: str | None) -> Delivery:
        """`owner`: the account the caller may see, None for all (admin)."""
        async with self.sessions() as session:
            delivery = await DeliveryRepository(session).get(delivery_id)
        if delivery is None or (owner is not None and delivery.account_id != owner):
            raise NotFound(f"no delivery {delivery_id}")
        return delivery

    async def retry(self, delivery_id: uuid.UUID) -> Delivery:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            repo = DeliveryRepository(session)
            delivery = await repo.get(delivery_id, for_update=True)
            if delivery is None:
                raise NotFound(f"no delivery {delivery_id}")
            delivery.retry(now)
            await repo.save(delivery, now)
        return delivery
