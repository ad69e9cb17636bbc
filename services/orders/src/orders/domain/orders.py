"""An order: what the client area charges for (a checked-out cart, or the renewal job's order for
an account and due date), and, once paid, what it does to the account's services.

    placed → paid | cancelled     (cancelled: unpaid, terminated, or by an admin)
    paid → cancelled              (an order of goods, by an admin, before anything shipped: billing
                                   credits or refunds it; a paid order's services are delivered: 409)

One currency per order; lines are values (`OrderLine`) fixed when placed. Billing invoices the
order from `OrderPlaced`; `fulfil` applies it when the invoice is paid in full. Renewal orders
hold every service and add-on of one account falling due on one date, so the customer gets one
invoice, never two for the same service and period."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from orders.domain.b2b_orders import CheckoutStatus, PaymentStatus, ShippingStatus, first_shipping
from orders.domain.events import (
    OrderCancelled,
    OrderPaid,
    OrderPlaced,
    ServiceActivated,
    ServiceReactivated,
    ServiceRenewed,
)
from orders.domain.lines import LineKind, OrderLine, with_tax_rates
from orders.domain.subscriptions import OVERDUE, Subscription, add_ons_of, by_parent
from orders.domain.subscriptions import Status as ServiceStatus
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.lifecycle import Lifecycle, Transition


class Status(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    CANCELLED = "cancelled"


class Source(StrEnum):
    CART = "cart"
    RENEWAL = "renewal"
    QUOTE = "quote"  # a quote the customer accepted (quote_id)
    REORDER = "reorder"  # an earlier order's lines put in a cart again (reordered_from)
    CHANNEL = "channel"  # received from another sales channel (channel, channel_order_id)


CANCEL_REASONS = ("unpaid", "terminated", "admin")
SETTLEMENTS = ("refund", "credit")
MAX_NOTE = 2000  # public_note, private_note
LIFECYCLE = Lifecycle(
    "order",
    {
        (Status.PLACED, "pay"): Status.PAID,
        (Status.PLACED, "cancel"): Status.CANCELLED,
        (Status.PAID, "cancel"): Status.CANCELLED,  # an admin's, before anything shipped
    },
)

OrderEvent = OrderPlaced | OrderPaid | OrderCancelled


@dataclass
class Order:
    id: uuid.UUID
    number: str
    account_id: str
    source: Source
    currency: str
    lines: tuple[OrderLine, ...]
    total: Decimal
    status: Status
    placed_at: datetime
    placed_on: date  # the business date it was placed on (the unpaid-orders rule counts from it)
    due_on: date | None = None  # renewal orders: the services' due date
    cancel_reason: str | None = None
    placed_by: str | None = None  # account/user, or the channel
    quote_id: uuid.UUID | None = None
    reordered_from: uuid.UUID | None = None
    channel: str | None = None
    channel_order_id: str | None = None
    customer_reference: str | None = None
    # the three statuses with their times (orders.domain.b2b_orders); set by `place`
    checkout_status: CheckoutStatus = CheckoutStatus.COMPLETED
    checkout_at: datetime | None = None
    payment_status: PaymentStatus = PaymentStatus.NOT_SUBMITTED
    payment_at: datetime | None = None
    shipping_status: ShippingStatus = ShippingStatus.NOT_APPLICABLE
    shipping_at: datetime | None = None
    # the order manager (orders.domain.shipments): the account's terms when placed, the notes, and
    # what the goods lines still await (ordered less shipped less held by pending shipments)
    payment_terms_days: int | None = None
    public_note: str | None = None  # the customer reads it (and the printed invoice)
    private_note: str | None = None  # admins only
    awaiting_quantity: int = 0
    history: list[Transition[Status]] = field(default_factory=list, repr=False)
    events: list[OrderEvent] = field(default_factory=list, repr=False)

    @property
    def tax_total(self) -> Decimal:
        """Σ of the lines' tax (each line's net × its rate, half-up): what billing's invoice adds to `total`."""
        return sum((line.tax for line in self.lines), Decimal("0.00"))

    @property
    def total_with_tax(self) -> Decimal:
        """The net `total` plus `tax_total`: the order's invoice total."""
        return self.total + self.tax_total

    @classmethod
    def place(
        cls,
        *,
        account_id: str,
        number: str,
        source: Source | str,
        lines: Sequence[OrderLine],
        by: str,
        now: datetime,
        placed_on: date,
        due_on: date | None = None,
        order_id: uuid.UUID | None = None,
        quote_id: uuid.UUID | None = None,
        reordered_from: uuid.UUID | None = None,
        channel: str | None = None,
        channel_order_id: str | None = None,
        customer_reference: str | None = None,
        placed_by: str | None = None,
        payment_terms_days: int | None = None,
        tax_rates: Mapping[uuid.UUID, Decimal | None] | None = None,
    ) -> Order:
        """A placed order (OrderPlaced). Refused: no lines, or lines in more than one currency.
        `placed_by` defaults to `by`; a quote's order names its quote, a channel's the channel and
        its order id; `payment_terms_days` the account's terms now (OrderPlaced carries them to billing).
        `tax_rates` (item id → the item's tax rate now, from orders' catalog copy): each line records its item's
        rate (an item not in it: not taxed); None keeps the lines' own rates."""
        source = Source(source)
        if (source == Source.QUOTE) != (quote_id is not None):
            raise ValueError("an order from a quote names the quote, and only such an order")
        if (source == Source.CHANNEL) != (channel is not None and channel_order_id is not None):
            raise ValueError("an order from a channel names the channel and its order id, and only such an order")
        if not lines:
            raise InvalidInput("an order has at least one line", field="lines")
        currencies = sorted({line.currency for line in lines})
        if len(currencies) > 1:
            raise InvalidInput(f"an order has one currency, not {', '.join(currencies)}", field="lines")
        if (source == Source.RENEWAL) != (due_on is not None):
            raise ValueError("a renewal order has a due date, and only a renewal order")
        if tax_rates is not None:
            lines = with_tax_rates(lines, tax_rates)
        total = sum((line.amount for line in lines), Decimal("0.00"))
        order = cls(
            id=order_id or uuid.uuid4(),
            number=number,
            account_id=account_id,
            source=source,
            currency=currencies[0],
            lines=tuple(lines),
            total=total,
            status=Status.PLACED,
            placed_at=now,
            placed_on=placed_on,
            due_on=due_on,
            placed_by=placed_by or by,
            quote_id=quote_id,
            reordered_from=reordered_from,
            channel=channel,
            channel_order_id=channel_order_id,
            customer_reference=customer_reference,
            checkout_at=now,
            shipping_status=first_shipping(lines),
            shipping_at=now,
            payment_terms_days=payment_terms_days,
            awaiting_quantity=sum(line.quantity for line in lines if line.kind == LineKind.GOOD),
        )
        order.history.append(LIFECYCLE.begin(Status.PLACED, by=by, at=now))
        order.events.append(
            OrderPlaced(
                order_id=order.id,
                number=number,
                account_id=account_id,
                source=str(source),
                due_on=due_on,
                currency=order.currency,
                lines=order.lines,
                total=total,
                at=now,
                placed_by=order.placed_by,
                quote_id=quote_id,
                reordered_from=reordered_from,
                channel=channel,
                channel_order_id=channel_order_id,
                customer_reference=customer_reference,
                payment_terms_days=payment_terms_days,
            )
        )
        return order

    @property
    def renewals(self) -> set[tuple[uuid.UUID, date]]:
        """(subscription_id, period_start) of the periods this order renews."""
        return {(line.subscription_id, line.period_start) for line in self.lines if line.kind == LineKind.RENEWAL}

    def pay(self, *, by: str, now: datetime) -> bool:
        """Paid in full (OrderPaid). False when already paid (a payment seen again); a cancelled
        order is a 409 (its invoice was voided)."""
        if self.status == Status.PAID:
            return False
        self._move("pay", by=by, now=now)
        self.events.append(OrderPaid(order_id=self.id, account_id=self.account_id, by=by, at=now))
        return True

    def cancel(
        self, reason: str, *, by: str, now: datetime, note: str | None = None, settlement: str | None = None
    ) -> None:
        """Cancelled for `reason` (unpaid, terminated, admin): OrderCancelled (with the order's
        number, `note`, `settlement` and who), on which billing voids the unpaid invoice, or credits
        or refunds what was paid. 409 (`current_status` the shipping status) once anything shipped;
        an admin cancelling an order with money paid on it (payment cleared or submitted) names its
        `settlement` (422; the jobs' cancellations leave it to billing's default).
        A goods order's shipping status becomes cancelled (pending shipments: `shipments.cancelled`)."""
        if reason not in CANCEL_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(CANCEL_REASONS)}", field="reason")
        if settlement is not None and settlement not in SETTLEMENTS:
            raise InvalidInput(f"settlement must be one of {', '.join(SETTLEMENTS)}", field="settlement")
        if self.status != Status.CANCELLED and self.shipping_status in (
            ShippingStatus.PARTIALLY_SHIPPED,
            ShippingStatus.SHIPPED,
        ):
            raise Conflict(
                f"order {self.number} has shipped: it is not cancelled", current_status=str(self.shipping_status)
            )
        if self.status == Status.PAID and any(line.kind != LineKind.GOOD for line in self.lines):
            raise Conflict(  # its services were delivered when it was paid (fulfil)
                f"order {self.number} is paid and its services are delivered: it is not cancelled",
                current_status=str(self.status),
            )
        paid = self.payment_status in (PaymentStatus.CLEARED, PaymentStatus.SUBMITTED)
        if reason == "admin" and self.status != Status.CANCELLED and paid and settlement is None:
            raise InvalidInput(
                f"money was paid on order {self.number}: say how it is given back (refund or credit)",
                field="settlement",
            )
        self._move("cancel", by=by, now=now, note=note or reason)
        self.cancel_reason = reason
        if self.shipping_status != ShippingStatus.NOT_APPLICABLE:
            self.shipping_status, self.shipping_at = ShippingStatus.CANCELLED, now
        self.awaiting_quantity = 0
        self.events.append(
            OrderCancelled(
                order_id=self.id,
                account_id=self.account_id,
                reason=reason,
                by=by,
                at=now,
                number=self.number,
                note=note,
                settlement=settlement,
            )
        )

    def set_notes(self, *, by: str, now: datetime, **notes: str | None) -> None:
        """An admin sets `public_note` and/or `private_note` (None clears one; ≤ MAX_NOTE chars);
        a history row names which changed."""
        for name, text in notes.items():
            if name not in ("public_note", "private_note"):
                raise ValueError(f"no note {name}")
            if text is not None and len(text) > MAX_NOTE:
                raise InvalidInput(f"a note has at most {MAX_NOTE} characters", field=name)
        changed = [name for name, text in notes.items() if getattr(self, name) != text]
        for name in changed:
            setattr(self, name, notes[name])
        if changed:
            self.history.append(
                Transition(
                    at=now, by=by, from_status=self.status, to_status=self.status, note=f"notes: {', '.join(changed)}"
                )
            )

    def _move(self, action: str, *, by: str, now: datetime, note: str | None = None) -> None:
        step = LIFECYCLE.move(self.status, action, by=by, at=now, note=note)
        self.status = step.to_status
        self.history.append(step)


def ordered_periods(orders: Iterable[Order]) -> set[tuple[uuid.UUID, date]]:
    """The (subscription_id, period_start) already on an order not cancelled: never ordered again."""
    return {period for order in orders if order.status != Status.CANCELLED for period in order.renewals}


# -- renewals ------------------------------------------------------------------------------
def renewal_line(subscription: Subscription, *, sku: str | None = None) -> OrderLine:
    """One more period of `subscription` at its own recurring price (not today's catalog price)."""
    start, end = subscription.next_period
    return OrderLine(
        line_id=uuid.uuid4(),
        kind=LineKind.RENEWAL,
        item_id=subscription.item_id,
        sku=sku,
        name=subscription.name,
        cycle=subscription.cycle,
        quantity=subscription.quantity,
        unit_price=subscription.unit_price,
        amount=subscription.price,
        currency=subscription.currency,
        subscription_id=subscription.id,
        parent_subscription_id=subscription.parent_id,
        domain=subscription.domain,
        period_start=start,
        period_end=end,
    )


def renewable(subscription: Subscription) -> bool:
    """Whether the renewal job bills this service's next period: active (a suspended one is not
    billed), recurring, and not cancelled at the end of its period."""
    return (
        subscription.status == ServiceStatus.ACTIVE
        and subscription.recurring
        and subscription.next_due_on is not None
        and not subscription.cancel_at_period_end
    )


def renewals_due(subscriptions: Iterable[Subscription], as_of: date, days_before: int = 14) -> list[date]:
    """The due dates the renewal job orders as of `as_of`: those within `days_before` days (or
    past), earliest first. Then `renewal_orders` for each."""
    return sorted(
        {s.next_due_on for s in subscriptions if renewable(s) and (s.next_due_on - as_of).days <= days_before}
    )


def renewal_orders(
    subscriptions: Iterable[Subscription],
    due_on: date,
    ordered: set[tuple[uuid.UUID, date]],
    *,
    number: Callable[[], str],
    by: str,
    now: datetime,
    placed_on: date,
    skus: Mapping[uuid.UUID, str] | None = None,
    payment_terms_days: int | None = None,
    tax_rates: Mapping[uuid.UUID, Decimal | None] | None = None,
) -> list[Order]:
    """ONE renewal order per account (and currency) for every renewable service and add-on due
    on `due_on` (parents first, each followed by its add-ons), skipping the periods in `ordered`
    (see `ordered_periods`) and those cancelled at the end of their period. No order when
    nothing is left to renew. `number()` gives each order its number; `tax_rates` (item id → rate now) the
    lines' tax rates (None: not taxed)."""
    due = [s for s in subscriptions if renewable(s) and s.next_due_on == due_on and (s.id, due_on) not in ordered]
    groups: dict[tuple[str, str], list[Subscription]] = {}
    for head, add_ons in by_parent(due):
        groups.setdefault((head.account_id, head.currency), []).extend([head, *add_ons])
    skus = skus or {}
    return [
        Order.place(
            account_id=account_id,
            number=number(),
            source=Source.RENEWAL,
            lines=[renewal_line(s, sku=skus.get(s.item_id)) for s in services],
            by=by,
            now=now,
            placed_on=placed_on,
            due_on=due_on,
            payment_terms_days=payment_terms_days,
            tax_rates=tax_rates,
        )
        for (account_id, _), services in groups.items()
    ]


# -- fulfilment ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Fulfilment:
    """What a paid order did: the services it created (to add) and the ones it changed (to save)."""

    created: tuple[Subscription, ...] = ()
    changed: tuple[Subscription, ...] = ()


def fulfil(
    order: Order, subscriptions: Mapping[uuid.UUID, Subscription], paid_on: date, *, by: str, now: datetime
) -> Fulfilment:
    """Apply an order paid in full on `paid_on`: new services become active (anchored on
    `paid_on`; a one-time one is then completed: delivered, never due again), add-ons attach
    to their parent (in the parent's cycle: due with it), renewals extend (an overdue
    suspension ends, and so do its add-ons' that are paid up). One
    ServiceActivated / ServiceRenewed / ServiceReactivated per parent, naming its add-ons.
    An order already paid changes nothing (a payment seen again). `subscriptions`: the
    account's services, by id (at least the renewed ones and the add-ons' parents)."""
    if not order.pay(by=by, now=now):
        return Fulfilment()
    created: list[Subscription] = []
    renewed: list[tuple[Subscription, OrderLine]] = []
    reactivated: list[Subscription] = []
    for line in order.lines:
        if line.kind == LineKind.GOOD:  # goods are shipped, not activated
            continue
        if line.kind == LineKind.RENEWAL:
            service = _service(subscriptions, line.subscription_id, order, "subscription_id")
            was_suspended = service.status == ServiceStatus.SUSPENDED
            if service.renew(line.period_start, line.period_end, by=by, now=now):
                renewed.append((service, line))
                if was_suspended and service.status == ServiceStatus.ACTIVE:
                    reactivated.append(service)
            continue
        service = Subscription.bought(account_id=order.account_id, order_id=order.id, line=line, by=by, now=now)
        if line.kind == LineKind.NEW:
            service.activate(paid_on, by=by, now=now)
        else:
            parent = _service(subscriptions, line.parent_subscription_id, order, "parent_subscription_id")
            if not parent.live:
                raise Conflict(
                    f"order {order.number} adds to service {parent.id}, which is {parent.status}",
                    field="parent_subscription_id",
                    current_status=str(parent.status),
                )
            service.attach_to(parent, paid_on, by=by, now=now)
            if parent.status == ServiceStatus.SUSPENDED and service.recurring:
                service.suspend(by=by, now=now, note="its parent is suspended", reason=parent.suspend_reason)
        if not service.recurring:  # a one-time service is delivered once paid
            service.complete(by=by, now=now, note=f"order {order.number} paid")
        created.append(service)
    everyone = [*subscriptions.values(), *created]
    for parent in list(reactivated):
        for add_on in add_ons_of(parent, everyone):  # suspended with it, and nothing of theirs unpaid
            paid_up = add_on.next_due_on is not None and add_on.next_due_on > paid_on
            if add_on.status == ServiceStatus.SUSPENDED and add_on.suspend_reason == OVERDUE and paid_up:
                add_on.reactivate(by=by, now=now, note=f"its parent {parent.id} was reactivated")
                reactivated.append(add_on)
    for head, add_ons in by_parent(created):
        head.events.append(head.service_event(ServiceActivated, add_ons, now))
    lines = {service.id: line for service, line in renewed}
    for head, add_ons in by_parent([service for service, _ in renewed]):
        line = lines[head.id]
        head.events.append(
            head.service_event(ServiceRenewed, add_ons, now, period_start=line.period_start, period_end=line.period_end)
        )
    for head, add_ons in by_parent(reactivated):
        head.events.append(head.service_event(ServiceReactivated, add_ons, now))
    changed = {s.id: s for s, _ in renewed} | {s.id: s for s in reactivated}
    return Fulfilment(created=tuple(created), changed=tuple(changed.values()))


def _service(
    subscriptions: Mapping[uuid.UUID, Subscription], subscription_id: uuid.UUID | None, order: Order, name: str
) -> Subscription:
    service = subscriptions.get(subscription_id)
    if service is None or service.account_id != order.account_id:
        raise NotFound(f"order {order.number} names service {subscription_id}, which the account has not", field=name)
    return service
