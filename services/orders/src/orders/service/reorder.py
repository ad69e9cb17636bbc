"""Reorder: an earlier order's goods and new services put in the caller's cart again, at today's
prices (the cart prices them as every line). A line is skipped, and said so, when its item is
invisible to the account now (`invisible`), retired or unknown to orders' catalog copy (`retired`),
or no longer offered as it was (`not_offered`: another kind, a cycle it is not sold in, another
currency than the cart's). Renewals and add-ons are not copied (they belong to services the account
has). The cart keeps the order it copied until checkout: the order placed from it has source
`reorder` and `reordered_from`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import tzinfo

from orders.domain.lines import LineKind
from orders.service.cart import CartService, CartView
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import DomainError, NotFound
from portal_runtime.uow import UnitsOfWork

COPIED = (LineKind.GOOD, LineKind.NEW)


@dataclass(frozen=True)
class Skipped:
    item_id: uuid.UUID
    name: str
    reason: str  # invisible | retired | not_offered


@dataclass(frozen=True)
class Reordered:
    cart: CartView
    skipped: list[Skipped]


class ReorderService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, tz: tzinfo) -> None:
        self.uow = uow
        self.clock = clock
        self.cart = CartService(uow, clock, tz)

    async def reorder(self, actor: Principal, order_id: uuid.UUID) -> Reordered:
        """The order's good and new lines into the caller's cart (the order's account's); another
        account's order is a 404 like a missing one."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None or not actor.owns(order.account_id):
                raise NotFound(f"no order {order_id}", field="order_id")
            cart = await uow.carts.open(order.account_id, now=self.clock.now())
            lines = [line for line in order.lines if line.kind in COPIED]
            known = await uow.offers.many(line.item_id for line in lines)
            hidden = await uow.visibility.hidden(order.account_id, known)
            offers = {item_id: offer for item_id, offer in known.items() if item_id not in hidden}
            skipped: list[Skipped] = []
            added = 0
            for line in lines:
                offer = known.get(line.item_id)
                if line.item_id in hidden:
                    skipped.append(Skipped(line.item_id, line.name, "invisible"))
                    continue
                if offer is None or not offer.is_offered:
                    skipped.append(Skipped(line.item_id, line.name, "retired"))
                    continue
                try:
                    now = self.clock.now()
                    if line.kind == LineKind.GOOD:
                        cart.add_good(line.item_id, line.quantity, offers, now=now)
                    else:
                        cart.add_service(line.item_id, line.cycle, offers, now=now, domain=line.domain)
                except DomainError:
                    skipped.append(Skipped(line.item_id, line.name, "not_offered"))
                    continue
                added += 1
            if added:
                cart.reordered_from = order.id
            await uow.commit()
            view = await self.cart._view(uow, cart, cart.account_id)
        return Reordered(view, skipped)
