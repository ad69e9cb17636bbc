"""Shipments of an order (admins record, ship and correct them; the customer reads its own order's).
Every change runs under the order row's lock (`SELECT ... FOR UPDATE`), so two shipments recorded at
once, on any number of processes, take turns: the second sees the first and may not exceed what is
still awaited. Payment terms are the account's now (`account_terms`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orders.domain import shipments as shipping
from orders.domain.orders import Order
from orders.domain.shipments import Shipment, Tracking
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, SystemClock
from portal_runtime.errors import NotFound
from portal_runtime.uow import UnitsOfWork


@dataclass(frozen=True)
class TrackingIn:
    carrier: str
    tracking_number: str
    tracking_url: str | None = None


@dataclass(frozen=True)
class ShipmentsOf:
    """An order's shipments, in sequence, with the order (for the lines' names)."""

    order: Order
    shipments: tuple[Shipment, ...]


class ShipmentService:
    def __init__(self, uow: UnitsOfWork, clock: Clock | None = None, urls: Mapping[str, str] | None = None) -> None:
        self.uow = uow
        self.clock = clock or SystemClock()
        self.urls = urls

    def _tracking(self, given: TrackingIn) -> Tracking:
        return Tracking.of(given.carrier, given.tracking_number, given.tracking_url, self.urls)

    async def record(
        self,
        admin: Principal,
        order_id: uuid.UUID,
        lines: Sequence[tuple[uuid.UUID, int]],
        tracking: TrackingIn | None = None,
    ) -> tuple[Order, Shipment]:
        """A shipment of `lines`: shipped at once with `tracking`, else pending (see
        `orders.domain.shipments.record` for the 409s and 422s)."""
        checked = self._tracking(tracking) if tracking is not None else None
        async with self.uow() as uow:
            order, shipments = await self._locked(uow, order_id)
            has_terms = await uow.terms.days(order.account_id) is not None
            shipment = shipping.record(
                order, shipments, lines, tracking=checked, has_terms=has_terms, by=admin.actor, now=self.clock.now()
            )
            uow.shipments.add(shipment)
            await uow.commit()
        return order, shipment

    async def ship(
        self, admin: Principal, order_id: uuid.UUID, shipment_id: uuid.UUID, tracking: TrackingIn
    ) -> tuple[Order, Shipment]:
        """A pending shipment leaves with its tracking (409 when it is not pending)."""
        checked = self._tracking(tracking)
        async with self.uow() as uow:
            order, shipments = await self._locked(uow, order_id)
            shipment = _one(shipments, shipment_id)
            has_terms = await uow.terms.days(order.account_id) is not None
            shipping.ship(
                order, shipments, shipment, checked, has_terms=has_terms, by=admin.actor, now=self.clock.now()
            )
            await uow.commit()
        return order, shipment

    async def correct_tracking(
        self, admin: Principal, order_id: uuid.UUID, shipment_id: uuid.UUID, tracking: TrackingIn
    ) -> tuple[Order, Shipment]:
        """A shipped shipment's tracking corrected (409 while it is pending or cancelled)."""
        checked = self._tracking(tracking)
        async with self.uow() as uow:
            order, shipments = await self._locked(uow, order_id)
            shipment = _one(shipments, shipment_id)
            shipping.correct_tracking(order, shipment, checked, by=admin.actor, now=self.clock.now())
            await uow.commit()
        return order, shipment

    async def of_order(self, actor: Principal, order_id: uuid.UUID) -> ShipmentsOf:
        """The order's shipments (owner or admin; another account's order: 404)."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None or not actor.owns(order.account_id):
                raise NotFound(f"no order {order_id}", field="order_id")
            return ShipmentsOf(order, tuple(await uow.shipments.of_order(order.id)))

    @staticmethod
    async def _locked(uow, order_id: uuid.UUID) -> tuple[Order, list[Shipment]]:
        order = await uow.orders.get(order_id, for_update=True)
        if order is None:
            raise NotFound(f"no order {order_id}", field="order_id")
        return order, await uow.shipments.of_order(order.id)


def _one(shipments: Sequence[Shipment], shipment_id: uuid.UUID) -> Shipment:
    for shipment in shipments:
        if shipment.id == shipment_id:
            return shipment
    raise NotFound(f"the order has no shipment {shipment_id}", field="shipment_id")
