"""The client area's services (subscriptions bought through the cart, and the seller flow's):
lists of parents with their add-ons, counts per status, one service's page (history, invoices,
renewal window), the add-ons offered for it, and the moves a client or an admin makes on a
service, which take its add-ons with them (one Service* event on the parent).

A customer sees and acts on its own account's services (another account's answer 404); an
admin on every account's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, tzinfo

from orders.adapters.repository import InvoiceLink
from orders.domain.carts import WINDOW_DAYS, renewal_window
from orders.domain.offers import Offer
from orders.domain.subscriptions import (
    OVERDUE,
    Status,
    Subscription,
    end_service,
    reactivate_service,
    schedule_cancellation,
    suspend_service,
)
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, business_date
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.lifecycle import Transition
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


@dataclass(frozen=True)
class ServiceView:
    service: Subscription
    add_ons: list[Subscription]


@dataclass(frozen=True)
class ServicePage:
    """One service as its page shows it."""

    service: Subscription
    add_ons: list[Subscription]
    history: list[Transition]
    invoices: list[InvoiceLink]
    order_ids: list[uuid.UUID]
    renewable: bool
    window_opens_on: date | None


class ServiceService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, tz: tzinfo, *, window_days: int = WINDOW_DAYS) -> None:
        self.uow = uow
        self.clock = clock
        self.tz = tz
        self.window_days = window_days

    def today(self) -> date:
        return business_date(self.clock.now(), self.tz)

    # -- reading ---------------------------------------------------------------------------
    async def list(
        self, actor: Principal, page: PageRequest, *, status: Status | None = None, account_id: str | None = None
    ) -> Slice[ServiceView]:
        """Parent services, each with its add-ons (any status)."""
        scope = actor.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            found = await uow.subscriptions.page(scope, page, status=status, parents_only=True)
            add_ons = await uow.subscriptions.add_ons_of(s.id for s in found.items)
        return Slice([ServiceView(s, add_ons[s.id]) for s in found.items], found.total, found.limit, found.offset)

    async def counts(self, actor: Principal, account_id: str | None = None) -> dict[str, int]:
        """Parent services per status, every status named."""
        scope = actor.scope(account_id)
        async with self.uow() as uow:
            if scope.empty:
                return {str(s): 0 for s in Status}
            return await uow.subscriptions.counts(scope)

    async def get(self, actor: Principal, subscription_id: uuid.UUID) -> ServicePage:
        async with self.uow() as uow:
            service, add_ons = await self._family(uow, actor, subscription_id)
            order_ids = await uow.orders.of_service(service.id)
            invoices = await uow.invoices.of_orders(order_ids)
            ordered = await uow.orders.ordered_periods([service.id])
            renewable, opens_on = renewal_window(service, self.today(), ordered, self.window_days)
            return ServicePage(
                service=service,
                add_ons=add_ons,
                history=await uow.subscriptions.history(service.id),
                invoices=sorted((i for o in order_ids for i in invoices[o]), key=lambda i: (i.issued_at, i.number)),
                order_ids=order_ids,
                renewable=renewable,
                window_opens_on=opens_on,
            )

    async def renewable(self, actor: Principal) -> list[ServiceView]:
        """The caller's services the cart would renew early today: parents (with their add-ons),
        and add-ons not due with their parent (renewed on their own)."""
        async with self.uow() as uow:
            services = await uow.subscriptions.of_account(actor.account_id)
            ordered = await uow.orders.ordered_periods(services)
        today = self.today()

        def open_now(s: Subscription) -> bool:
            return renewal_window(s, today, ordered, self.window_days)[0]

        shown = []
        for s in sorted(services.values(), key=lambda s: (s.next_due_on or date.max, s.name, s.id)):
            parent = services.get(s.parent_id) if s.parent_id else None
            rides_along = parent is not None and parent.next_due_on == s.next_due_on and open_now(parent)
            if open_now(s) and not rides_along:
                shown.append(ServiceView(s, [a for a in services.values() if a.parent_id == s.id]))
        return shown

    async def add_ons_offered(self, actor: Principal, subscription_id: uuid.UUID) -> list[Offer]:
        """The add-on items offered for this service's product (retired ones left out)."""
        async with self.uow() as uow:
            service, _ = await self._family(uow, actor, subscription_id)
            return await uow.offers.add_ons_for(service.item_id)

    # -- moves -----------------------------------------------------------------------------
    async def cancel_at_period_end(self, actor: Principal, subscription_id: uuid.UUID) -> ServiceView:
        """The client's cancellation: no renewal any more; it ends on its due date (ends_on).
        Asked again, it changes nothing."""
        async with self.uow() as uow:
            service, add_ons = await self._family(uow, actor, subscription_id, for_update=True)
            schedule_cancellation(service, add_ons, by=actor.actor, now=self.clock.now())
            await uow.commit()
        return ServiceView(service, add_ons)

    async def cancel_now(self, actor: Principal, subscription_id: uuid.UUID) -> ServiceView:
        """An admin ends a service at once, and its add-ons with it (ServiceCancelled, reason admin)."""
        async with self.uow() as uow:
            service, add_ons = await self._family(uow, actor, subscription_id, for_update=True)
            note = "cancelled by an admin"
            end_service(service, add_ons, "cancel", by=actor.actor, now=self.clock.now(), note=note, reason="admin")
            await uow.commit()
        return ServiceView(service, add_ons)

    async def suspend(self, actor: Principal, subscription_id: uuid.UUID, reason: str) -> ServiceView:
        """An admin suspends a service and its active add-ons for `reason` (a payment does not lift it)."""
        reason = reason.strip()
        async with self.uow() as uow:
            service, add_ons = await self._family(uow, actor, subscription_id, for_update=True)
            if not reason or reason == OVERDUE:
                raise InvalidInput(f"an admin's suspension gives a reason other than {OVERDUE!r}", field="reason")
            suspend_service(service, add_ons, reason=reason, by=actor.actor, now=self.clock.now(), note=reason)
            await uow.commit()
        return ServiceView(service, add_ons)

    async def reactivate(self, actor: Principal, subscription_id: uuid.UUID) -> ServiceView:
        """An admin lifts a suspension (its own, or an overdue one), with the add-ons suspended with it."""
        async with self.uow() as uow:
            service, add_ons = await self._family(uow, actor, subscription_id, for_update=True)
            reactivate_service(service, add_ons, by=actor.actor, now=self.clock.now(), note="reactivated by an admin")
            await uow.commit()
        return ServiceView(service, add_ons)

    @staticmethod
    async def _family(
        uow, actor: Principal, subscription_id: uuid.UUID, *, for_update: bool = False
    ) -> tuple[Subscription, list[Subscription]]:
        family = await uow.subscriptions.family(subscription_id, for_update=for_update)
        if not family or not actor.owns(family[0].account_id):
            raise NotFound(f"no service {subscription_id}", field="subscription_id")
        return family[0], family[1:]
