"""The client area's cart and checkout: one unit of work per command, the account's cart locked
(made on first use) before it changes. A customer acts on its own account's cart; an admin on
the account it names (`account_id`), or its own.

Checkout takes an Idempotency-Key as the payment paths do (`portal_runtime.idempotency`): the
cart is locked, the key claimed, the cart priced again and placed as an order, and the answer
stored with the order, all in one transaction; the same key again answers the same order.

Visibility (orders' copy of catalog's access groups): an item the cart's account may not see is
left out of the catalog copy the cart is priced from, so adding it, pricing it and checking it out
answer exactly as for an item orders has never heard of."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, tzinfo

from orders.domain.carts import WINDOW_DAYS, Cart, CartLine
from orders.domain.lines import OrderLine
from orders.domain.offers import Offer
from orders.domain.orders import Order
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, business_date
from portal_runtime.errors import DomainError, NotFound
from portal_runtime.idempotency import Answer, fingerprint
from portal_runtime.uow import UnitsOfWork

Render = Callable[[Order], Answer]


@dataclass(frozen=True)
class CartView:
    """The cart priced as of today: each line with its price, or the refusal checkout would give."""

    cart_id: uuid.UUID | None  # None: the account has no cart yet (an empty one is shown)
    account_id: str
    lines: list[tuple[CartLine, OrderLine | None, DomainError | None]]

    @property
    def currency(self) -> str | None:
        return self.lines[0][0].currency if self.lines else None


def account_of(actor: Principal, account_id: str | None) -> str:
    """The account a command acts on: a customer's own (naming another is a 404: nothing of it
    is shown), an admin's choice."""
    if account_id is None or account_id == actor.account_id:
        return actor.account_id
    if not actor.is_admin:
        raise NotFound(f"no account {account_id} for this caller", field="account_id")
    return account_id


class CartService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, tz: tzinfo, *, window_days: int = WINDOW_DAYS) -> None:
        self.uow = uow
        self.clock = clock
        self.tz = tz
        self.window_days = window_days

    async def offers(self, uow, account_id: str, item_ids) -> dict[uuid.UUID, Offer]:
        """The catalog copy of these items as `account_id` may see it: invisible ones left out
        (they answer as unknown ones)."""
        found = await uow.offers.many(item_ids)
        hidden = await uow.visibility.hidden(account_id, found)
        return {item_id: offer for item_id, offer in found.items() if item_id not in hidden}

    def today(self) -> date:
        return business_date(self.clock.now(), self.tz)

    async def get(self, actor: Principal, account_id: str | None = None) -> CartView:
        account = account_of(actor, account_id)
        async with self.uow() as uow:
            cart = await uow.carts.get(account)
            return await self._view(uow, cart, account)

    async def add_service(
        self, actor: Principal, item_id: uuid.UUID, cycle: str, domain: str | None, account_id: str | None = None
    ) -> CartView:
        async with self.uow() as uow:
            cart = await uow.carts.open(account_of(actor, account_id), now=self.clock.now())
            offers = await self.offers(uow, cart.account_id, [item_id])
            cart.add_service(item_id, cycle, offers, now=self.clock.now(), domain=domain)
            return await self._commit(uow, cart)

    async def add_add_on(
        self,
        actor: Principal,
        item_id: uuid.UUID,
        cycle: str,
        parent_subscription_id: uuid.UUID,
        account_id: str | None = None,
    ) -> CartView:
        async with self.uow() as uow:
            cart = await uow.carts.open(account_of(actor, account_id), now=self.clock.now())
            offers = await self.offers(uow, cart.account_id, [item_id])
            services = await uow.subscriptions.family(parent_subscription_id)
            cart.add_add_on(
                item_id, cycle, parent_subscription_id, offers, {s.id: s for s in services}, now=self.clock.now()
            )
            return await self._commit(uow, cart)

    async def add_good(
        self, actor: Principal, item_id: uuid.UUID, quantity: int, account_id: str | None = None
    ) -> CartView:
        async with self.uow() as uow:
            cart = await uow.carts.open(account_of(actor, account_id), now=self.clock.now())
            offers = await self.offers(uow, cart.account_id, [item_id])
            cart.add_good(item_id, quantity, offers, now=self.clock.now())
            return await self._commit(uow, cart)

    async def set_quantity(
        self, actor: Principal, line_id: uuid.UUID, quantity: int, account_id: str | None = None
    ) -> CartView:
        async with self.uow() as uow:
            cart = await uow.carts.open(account_of(actor, account_id), now=self.clock.now())
            cart.set_quantity(line_id, quantity, now=self.clock.now())
            return await self._commit(uow, cart)

    async def add_renewal(
        self, actor: Principal, subscription_id: uuid.UUID, account_id: str | None = None
    ) -> CartView:
        async with self.uow() as uow:
            cart = await uow.carts.open(account_of(actor, account_id), now=self.clock.now())
            services = {s.id: s for s in await uow.subscriptions.family(subscription_id)}
            cart.add_renewal(
                subscription_id,
                services,
                business_date=self.today(),
                now=self.clock.now(),
                ordered=await uow.orders.ordered_periods(services),
                window_days=self.window_days,
            )
            return await self._commit(uow, cart)

    async def remove_line(self, actor: Principal, line_id: uuid.UUID, account_id: str | None = None) -> CartView:
        async with self.uow() as uow:
            cart = await uow.carts.open(account_of(actor, account_id), now=self.clock.now())
            cart.remove_line(line_id, now=self.clock.now())
            return await self._commit(uow, cart)

    async def checkout(self, actor: Principal, key: str, render: Render, account_id: str | None = None) -> Answer:
        """The cart as a placed order (OrderPlaced), priced again now; the answer `render` gives
        it is the one every retry with `key` gets. An empty cart is a 422."""
        account = account_of(actor, account_id)
        async with self.uow() as uow:
            cart = await uow.carts.open(account, now=self.clock.now())
            replayed = await uow.idempotency.claim(
                actor.account_id, key, fingerprint({"operation": "checkout", "account_id": account})
            )
            if replayed is not None:
                return replayed
            # the account's services are locked as the renewal job locks them: an early
            # renewal and the job's order for the same period take turns
            services = await uow.subscriptions.of_account(account, for_update=True)
            today = self.today()
            order = cart.checkout(
                await self.offers(uow, account, [line.item_id for line in cart.lines]),
                services,
                number=await uow.orders.next_number(today.year),
                by=actor.actor,
                now=self.clock.now(),
                business_date=today,
                ordered=await uow.orders.ordered_periods(services),
                window_days=self.window_days,
                payment_terms_days=await uow.terms.days(account),
            )
            uow.orders.add(order)
            answer = await uow.idempotency.store(actor.account_id, key, render(order))
            await uow.commit()
        return answer

    async def _commit(self, uow, cart: Cart) -> CartView:
        await uow.commit()
        return await self._view(uow, cart, cart.account_id)

    async def _view(self, uow, cart: Cart | None, account: str) -> CartView:
        if cart is None or not cart.lines:
            return CartView(cart.id if cart else None, account, [])
        services = await uow.subscriptions.of_account(account)
        shown = cart.preview(
            await self.offers(uow, account, [line.item_id for line in cart.lines]),
            services,
            business_date=self.today(),
            ordered=await uow.orders.ordered_periods(services),
            window_days=self.window_days,
        )
        return CartView(cart.id, account, shown)
