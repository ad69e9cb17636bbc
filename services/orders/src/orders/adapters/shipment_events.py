"""Shipments' domain events → the contract events on `orders.orders` (called from `to_contract`)."""

from __future__ import annotations

from orders.domain import shipments as domain
from portal_contracts import Event
from portal_contracts.events import orders as contract

SHIPMENT_EVENTS = domain.SHIPMENT_EVENTS


def shipment_contract(event: domain.OrderShipped | domain.ShipmentTrackingCorrected) -> Event:
    ids = {
        "order_id": event.order_id,
        "number": event.number,
        "account_id": event.account_id,
        "shipment_id": event.shipment_id,
        "shipment_number": event.shipment_number,
        "carrier": event.tracking.carrier,
        "tracking_number": event.tracking.tracking_number,
        "tracking_url": event.tracking.tracking_url,
    }
    match event:
        case domain.OrderShipped():
            return contract.OrderShipped(
                **ids,
                lines=[
                    contract.ShippedLine(
                        line_id=line.line_id,
                        item_id=line.item_id,
                        sku=line.sku,
                        name=line.name,
                        quantity=line.quantity,
                        ordered=line.ordered,
                        shipped=line.shipped,
                        awaiting=line.awaiting,
                    )
                    for line in event.lines
                ],
                shipping_status=event.shipping_status,
                shipped_by=event.by,
                shipped_at=event.at,
            )
        case domain.ShipmentTrackingCorrected():
            return contract.ShipmentTrackingCorrected(**ids, corrected_by=event.by, corrected_at=event.at)
    raise TypeError(f"no contract for {type(event).__name__}")
