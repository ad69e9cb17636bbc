"""Order threads: the customer (a user of the order's account) and the business (an admin) post
messages on an order and read its thread, oldest first. Another account's order answers 404, as
an unknown one. Each post raises OrderMessagePosted in the same transaction (the outbox): notify
emails the other side. The author's name is the portal user's (orders' users) when it is one; an
admin's is not given."""

from __future__ import annotations

import uuid

from orders.adapters.message_repository import MessageRepository
from orders.adapters.user_contacts import contact_of
from orders.domain.messages import OrderMessage, Side
from orders.domain.orders import Order
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


class MessageService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def post(self, actor: Principal, order_id: uuid.UUID, body: str) -> OrderMessage:
        """An admin writes for the business; a customer user on its own account's order."""
        side = Side.BUSINESS if actor.is_admin else Side.CUSTOMER
        async with self.uow() as uow:
            order = await _order(uow, actor, order_id, lock=True)  # the thread's next position
            name = None
            if side == Side.CUSTOMER:
                contact = await contact_of(uow.session, actor.account_id, actor.user_id)
                name = contact.name if contact is not None else None
            message = MessageRepository(uow).add(
                OrderMessage.post(
                    order_id=order.id,
                    number=order.number,
                    account_id=order.account_id,
                    side=side,
                    author=actor.actor,
                    author_name=name,
                    body=body,
                    now=self.clock.now(),
                )
            )
            await uow.commit()
        return message

    async def thread(self, actor: Principal, order_id: uuid.UUID, page: PageRequest) -> Slice[OrderMessage]:
        async with self.uow() as uow:
            await _order(uow, actor, order_id)
            return await MessageRepository(uow).thread(order_id, page)


async def _order(uow, actor: Principal, order_id: uuid.UUID, *, lock: bool = False) -> Order:
    """The order, when the caller may see it (another account's: 404, as an unknown one)."""
    order = await uow.orders.get(order_id, for_update=lock)
    if order is None or not actor.owns(order.account_id):
        raise NotFound(f"no order {order_id}", field="order_id")
    return order
