"""The client area's cart: one per account, lines of three kinds, checked out into an `Order`.

    new      a service from the catalog: item, cycle, domain/label (quantity 1)
    renewal  one more period of one of the account's services (its own recurring price)
    add_on   an add-on item in a cycle, for one of the account's active services
    good     a quantity (1-10000) of a catalog item of kind `good`, at its one-time price

A reorder (`orders.service.reorder`) fills the cart from an earlier order and the cart keeps that
order (`reordered_from`) until checkout: the order placed then has source `reorder`.

Prices are the server's: the offer's price for the cycle (new, add-on), or the service's own
recurring price (renewal: never today's catalog price). An add-on in its parent's cycle is
prorated to the parent's next due date (price × days left ÷ days in the parent's current
period, half-up to cents), and renews with it from then on. Every refusal names its field.

Lines are checked when added and again when the cart is priced (`quote`, `checkout`): the
catalog or the services may have changed in between."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from orders.domain.lines import LineKind, OrderLine
from orders.domain.offers import NotOfferedYet, Offer, months_of, tax_rates
from orders.domain.orders import Order, Source, renewal_line
from orders.domain.subscriptions import Status as ServiceStatus
from orders.domain.subscriptions import Subscription
from portal_runtime.errors import DomainError, InvalidInput, NotFound
from portal_runtime.kernel import add_months, cents

MAX_LINES = 50
MAX_GOOD_QUANTITY = 10000
GOOD_CYCLE = "one_time"  # goods are bought once, at the item's one-time price
MAX_DOMAIN = 253  # a domain name's longest
WINDOW_DAYS = 30  # early renewal: how many days before the due date the cart takes it


@dataclass(frozen=True)
class CartLine:
    line_id: uuid.UUID
    kind: LineKind
    item_id: uuid.UUID
    cycle: str
    currency: str
    # new, add-on: the service the line will create; renewal: the service it renews; good: None
    subscription_id: uuid.UUID | None
    parent_subscription_id: uuid.UUID | None = None
    domain: str | None = None
    period_start: date | None = None  # renewal: the due date it renews from
    quantity: int = 1  # goods: how many


@dataclass(frozen=True)
class Quote:
    lines: tuple[OrderLine, ...]
    currency: str | None
    total: Decimal


def prorate(price: Decimal, parent: Subscription, on: date) -> Decimal:
    """An add-on in its parent's cycle, bought on `on`: `price` × days left to the parent's next
    due date ÷ days in the parent's current period, half-up to cents (0.625 → 0.63)."""
    start, end = parent.current_period
    left = max((end - on).days, 0)
    return cents(price * left / (end - start).days)


@dataclass
class Cart:
    id: uuid.UUID
    account_id: str
    created_at: datetime
    updated_at: datetime
    lines: list[CartLine] = field(default_factory=list)
    reordered_from: uuid.UUID | None = None  # the order a reorder copied the lines from, until checkout

    @classmethod
    def open(cls, account_id: str, *, now: datetime) -> Cart:
        return cls(id=uuid.uuid4(), account_id=account_id, created_at=now, updated_at=now)

    # -- adding lines --------------------------------------------------------------------
    def add_service(
        self,
        item_id: uuid.UUID,
        cycle: str,
        offers: Mapping[uuid.UUID, Offer],
        *,
        now: datetime,
        domain: str | None = None,
    ) -> CartLine:
        """A new service from the catalog, in `cycle`, for `domain` (the customer's domain or label)."""
        offer = _offer(offers, item_id, "service")
        _price(offer, cycle)
        line = CartLine(
            line_id=uuid.uuid4(),
            kind=LineKind.NEW,
            item_id=item_id,
            cycle=cycle,
            currency=offer.currency,
            subscription_id=uuid.uuid4(),
            domain=_domain(domain),
        )
        return self._add(line, now)

    def add_good(
        self, item_id: uuid.UUID, quantity: int, offers: Mapping[uuid.UUID, Offer], *, now: datetime
    ) -> CartLine:
        """`quantity` of a good at its one-time price; the same good again adds to its line."""
        offer = _offer(offers, item_id, "good")
        _good_price(offer)
        _quantity(quantity)
        same = next((line for line in self.lines if line.kind == LineKind.GOOD and line.item_id == item_id), None)
        if same is not None:
            return self.set_quantity(same.line_id, same.quantity + quantity, now=now)
        line = CartLine(
            line_id=uuid.uuid4(),
            kind=LineKind.GOOD,
            item_id=item_id,
            cycle=GOOD_CYCLE,
            currency=offer.currency,
            subscription_id=None,
            quantity=quantity,
        )
        return self._add(line, now)

    def set_quantity(self, line_id: uuid.UUID, quantity: int, *, now: datetime) -> CartLine:
        """A good's line gets a new quantity (1-10000); a service's line has none to change."""
        index = next((i for i, line in enumerate(self.lines) if line.line_id == line_id), None)
        if index is None:
            raise NotFound(f"the cart has no line {line_id}", field="line_id")
        if self.lines[index].kind != LineKind.GOOD:
            raise InvalidInput("only a line of goods has a quantity to change", field="quantity")
        self.lines[index] = replace(self.lines[index], quantity=_quantity(quantity))
        self.updated_at = now
        return self.lines[index]

    def add_add_on(
        self,
        item_id: uuid.UUID,
        cycle: str,
        parent_subscription_id: uuid.UUID,
        offers: Mapping[uuid.UUID, Offer],
        subscriptions: Mapping[uuid.UUID, Subscription],
        *,
        now: datetime,
    ) -> CartLine:
        """An add-on in `cycle` for one of the account's active services (`subscriptions`: the
        account's, by id), of a product it is offered for, within its `max_per_parent`."""
        line = CartLine(
            line_id=uuid.uuid4(),
            kind=LineKind.ADD_ON,
            item_id=item_id,
            cycle=cycle,
            currency="",
            subscription_id=uuid.uuid4(),
            parent_subscription_id=parent_subscription_id,
        )
        offer, _ = self._check_add_on(line, offers, subscriptions)
        return self._add(replace(line, currency=offer.currency), now)

    def add_renewal(
        self,
        subscription_id: uuid.UUID,
        subscriptions: Mapping[uuid.UUID, Subscription],
        *,
        business_date: date,
        now: datetime,
        ordered: set[tuple[uuid.UUID, date]] = frozenset(),
        window_days: int = WINDOW_DAYS,
    ) -> list[CartLine]:
        """Renew one of the account's services early (from `window_days` before its due date),
        with its add-ons falling due the same day (so they stay on one invoice). `ordered`: the
        periods already on an order (`orders.ordered_periods`), which are not ordered twice."""
        service = self._own(subscriptions, subscription_id, "subscription_id")
        if any(line.kind == LineKind.RENEWAL and line.subscription_id == service.id for line in self.lines):
            raise InvalidInput(f"the cart already renews service {service.id}", field="subscription_id")
        _check_renewal(service, business_date, ordered, window_days)
        add_ons = [
            s
            for s in subscriptions.values()
            if s.parent_id == service.id
            and s.account_id == self.account_id
            and s.next_due_on == service.next_due_on
            and not any(line.kind == LineKind.RENEWAL and line.subscription_id == s.id for line in self.lines)
            and _renewal_refusal(s, business_date, ordered, window_days) is None
        ]
        lines = [
            CartLine(
                line_id=uuid.uuid4(),
                kind=LineKind.RENEWAL,
                item_id=s.item_id,
                cycle=s.cycle,
                currency=s.currency,
                subscription_id=s.id,
                parent_subscription_id=s.parent_id,
                domain=s.domain,
                period_start=s.next_due_on,
            )
            for s in (service, *add_ons)
        ]
        for line in lines:
            self._add(line, now)
        return lines

    def remove_line(self, line_id: uuid.UUID, *, now: datetime) -> None:
        line = next((line for line in self.lines if line.line_id == line_id), None)
        if line is None:
            raise NotFound(f"the cart has no line {line_id}", field="line_id")
        self.lines.remove(line)
        if not self.lines:
            self.reordered_from = None
        self.updated_at = now

    # -- pricing and checkout ------------------------------------------------------------
    def quote(
        self,
        offers: Mapping[uuid.UUID, Offer],
        subscriptions: Mapping[uuid.UUID, Subscription],
        *,
        business_date: date,
        ordered: set[tuple[uuid.UUID, date]] = frozenset(),
        window_days: int = WINDOW_DAYS,
    ) -> Quote:
        """The cart priced as of `business_date`, every line checked again (the first refusal raised)."""
        priced = tuple(
            self._priced(line, offers, subscriptions, business_date, ordered, window_days) for line in self.lines
        )
        currencies = {line.currency for line in priced}
        return Quote(priced, next(iter(currencies), None), sum((line.amount for line in priced), Decimal("0.00")))

    def preview(
        self,
        offers: Mapping[uuid.UUID, Offer],
        subscriptions: Mapping[uuid.UUID, Subscription],
        *,
        business_date: date,
        ordered: set[tuple[uuid.UUID, date]] = frozenset(),
        window_days: int = WINDOW_DAYS,
    ) -> list[tuple[CartLine, OrderLine | None, DomainError | None]]:
        """The cart as the customer sees it: each line priced as of `business_date`, or why it
        cannot be any more (checkout refuses such a line)."""
        shown = []
        for line in self.lines:
            try:
                shown.append(
                    (line, self._priced(line, offers, subscriptions, business_date, ordered, window_days), None)
                )
            except DomainError as refusal:
                shown.append((line, None, refusal))
        return shown

    def checkout(
        self,
        offers: Mapping[uuid.UUID, Offer],
        subscriptions: Mapping[uuid.UUID, Subscription],
        *,
        number: str,
        by: str,
        now: datetime,
        business_date: date,
        ordered: set[tuple[uuid.UUID, date]] = frozenset(),
        window_days: int = WINDOW_DAYS,
        payment_terms_days: int | None = None,
    ) -> Order:
        """The cart as a placed order (OrderPlaced, with the account's payment terms), priced now;
        the cart is then empty."""
        if not self.lines:
            raise InvalidInput("an empty cart cannot be checked out", field="lines")
        quote = self.quote(offers, subscriptions, business_date=business_date, ordered=ordered, window_days=window_days)
        order = Order.place(
            account_id=self.account_id,
            number=number,
            source=Source.REORDER if self.reordered_from else Source.CART,
            lines=quote.lines,
            by=by,
            now=now,
            placed_on=business_date,
            reordered_from=self.reordered_from,
            payment_terms_days=payment_terms_days,
            tax_rates=tax_rates(offers),
        )
        self.lines.clear()
        self.reordered_from = None
        self.updated_at = now
        return order

    # -- helpers ---------------------------------------------------------------------------
    def _add(self, line: CartLine, now: datetime) -> CartLine:
        if len(self.lines) >= MAX_LINES:
            raise InvalidInput(f"a cart has at most {MAX_LINES} lines", field="lines")
        if self.lines and line.currency != self.lines[0].currency:
            raise InvalidInput(
                f"a cart has one currency ({self.lines[0].currency}); this line is in {line.currency}",
                field="item_id" if line.kind != LineKind.RENEWAL else "subscription_id",
            )
        self.lines.append(line)
        self.updated_at = now
        return line

    def _own(self, subscriptions: Mapping[uuid.UUID, Subscription], subscription_id, name: str) -> Subscription:
        """The account's service; another account's answers as a missing one (ids cannot be probed)."""
        service = subscriptions.get(subscription_id)
        if service is None or service.account_id != self.account_id:
            raise NotFound(f"no service {subscription_id}", field=name)
        return service

    def _check_add_on(
        self, line: CartLine, offers: Mapping[uuid.UUID, Offer], subscriptions: Mapping[uuid.UUID, Subscription]
    ) -> tuple[Offer, Subscription]:
        offer = _offer(offers, line.item_id, "add_on")
        _price(offer, line.cycle)
        parent = self._own(subscriptions, line.parent_subscription_id, "parent_subscription_id")
        if parent.is_add_on:
            raise InvalidInput(
                "an add-on is bought for a service, not for another add-on", field="parent_subscription_id"
            )
        if parent.status != ServiceStatus.ACTIVE:
            raise InvalidInput(
                f"an add-on is bought for an active service; service {parent.id} is {parent.status}",
                field="parent_subscription_id",
                current_status=str(parent.status),
            )
        if parent.cancel_at_period_end:
            raise InvalidInput(
                f"service {parent.id} ends on {parent.ends_on}: it takes no more add-ons",
                field="parent_subscription_id",
            )
        if parent.item_id not in offer.parents:
            raise InvalidInput(
                f"{offer.name} is not offered for {parent.name}",
                field="parent_subscription_id",
                item_id=str(offer.item_id),
            )
        if offer.max_per_parent is not None:
            attached = sum(
                1
                for s in subscriptions.values()
                if s.parent_id == parent.id
                and s.item_id == offer.item_id
                and (s.live or s.status == ServiceStatus.PENDING)
            )
            in_cart = sum(
                1
                for other in self.lines
                if other.line_id != line.line_id
                and other.kind == LineKind.ADD_ON
                and (other.item_id, other.parent_subscription_id) == (offer.item_id, parent.id)
            )
            if attached + in_cart >= offer.max_per_parent:
                raise InvalidInput(
                    f"{offer.name} is bought at most {offer.max_per_parent} time(s) per service",
                    field="parent_subscription_id",
                    max_per_parent=offer.max_per_parent,
                )
        return offer, parent

    def _priced(
        self,
        line: CartLine,
        offers: Mapping[uuid.UUID, Offer],
        subscriptions: Mapping[uuid.UUID, Subscription],
        today: date,
        ordered: set[tuple[uuid.UUID, date]],
        window_days: int,
    ) -> OrderLine:
        common = {"line_id": line.line_id, "kind": line.kind, "item_id": line.item_id, "cycle": line.cycle}
        if line.kind == LineKind.GOOD:
            offer = _offer(offers, line.item_id, "good")
            price = _good_price(offer)
            return OrderLine(
                **common,
                sku=offer.sku,
                name=offer.name or "",
                quantity=line.quantity,
                unit_price=price,
                amount=cents(price * line.quantity),
                currency=offer.currency,
                subscription_id=None,
                period_start=None,
                period_end=None,
            )
        if line.kind == LineKind.RENEWAL:
            service = self._own(subscriptions, line.subscription_id, "subscription_id")
            if service.next_due_on != line.period_start:
                raise InvalidInput(
                    f"the period of service {service.id} from {line.period_start} is paid already",
                    field="subscription_id",
                    line_id=str(line.line_id),
                )
            _check_renewal(service, today, ordered, window_days)
            known = offers.get(service.item_id)
            return replace(renewal_line(service, sku=known.sku if known else None), line_id=line.line_id)
        if line.kind == LineKind.NEW:
            offer = _offer(offers, line.item_id, "service")
            price = _price(offer, line.cycle)
            months = months_of(line.cycle)
            return OrderLine(
                **common,
                sku=offer.sku,
                name=offer.name or "",
                unit_price=price,
                amount=cents(price),
                currency=offer.currency,
                subscription_id=line.subscription_id,
                domain=line.domain,
                period_start=today,
                period_end=add_months(today, months) if months else None,
            )
        offer, parent = self._check_add_on(line, offers, subscriptions)
        price = _price(offer, line.cycle)
        months = months_of(line.cycle)
        with_parent = months is not None and line.cycle == parent.cycle and parent.next_due_on is not None
        if with_parent:
            amount, end = prorate(price, parent, today), parent.next_due_on
        else:
            amount, end = cents(price), add_months(today, months) if months else None
        return OrderLine(
            **common,
            sku=offer.sku,
            name=offer.name or "",
            unit_price=price,
            amount=amount,
            currency=offer.currency,
            subscription_id=line.subscription_id,
            parent_subscription_id=parent.id,
            domain=parent.domain,
            period_start=today,
            period_end=end,
        )


def _offer(offers: Mapping[uuid.UUID, Offer], item_id: uuid.UUID, kind: str) -> Offer:
    offer = offers.get(item_id)
    if offer is None:
        raise NotOfferedYet(
            f"item {item_id} is not offered (yet): orders has not heard of it; try again after Retry-After",
            field="item_id",
            item_id=str(item_id),
        )
    if not offer.is_offered:
        raise InvalidInput(f"item {item_id} is not offered", field="item_id", item_id=str(item_id))
    if offer.kind != kind:
        wanted = {"service": "a service", "good": "a good"}.get(kind, "an add-on")
        raise InvalidInput(f"{offer.name} is not {wanted} (it is {offer.kind})", field="item_id", item_id=str(item_id))
    return offer


def _price(offer: Offer, cycle: str) -> Decimal:
    price = offer.price_for(cycle)
    if price is None:
        raise InvalidInput(
            f"{offer.name} is not offered {cycle}; it is offered {', '.join(offer.cycles) or 'in no cycle'}",
            field="cycle",
            cycles=list(offer.cycles),
        )
    return price


def _good_price(offer: Offer) -> Decimal:
    """A good's one-time price (a copy made before cycles: its one price)."""
    price = offer.price_for(GOOD_CYCLE) if offer.prices else offer.price
    if price is None:
        raise InvalidInput(f"{offer.name} has no one-time price", field="item_id", item_id=str(offer.item_id))
    return price


def _quantity(quantity: int) -> int:
    if not 1 <= quantity <= MAX_GOOD_QUANTITY:
        raise InvalidInput(f"quantity must be 1 to {MAX_GOOD_QUANTITY}", field="quantity")
    return quantity


def _domain(domain: str | None) -> str | None:
    domain = (domain or "").strip()
    if len(domain) > MAX_DOMAIN:
        raise InvalidInput(f"domain is longer than {MAX_DOMAIN} characters", field="domain")
    return domain or None


def _renewal_refusal(
    service: Subscription, today: date, ordered: set[tuple[uuid.UUID, date]], window_days: int
) -> InvalidInput | None:
    """Why `service` cannot be renewed from the cart today, or None."""
    if not service.recurring:
        return InvalidInput(f"{service.name} is a one-time service: it is not renewed", field="subscription_id")
    if not service.live:
        return InvalidInput(
            f"service {service.id} is {service.status}: it is not renewed",
            field="subscription_id",
            current_status=str(service.status),
        )
    if service.cancel_at_period_end:
        return InvalidInput(
            f"service {service.id} ends on {service.ends_on}: it is not renewed", field="subscription_id"
        )
    if (service.id, service.next_due_on) in ordered:
        return InvalidInput(
            f"the period of service {service.id} from {service.next_due_on} is already ordered: pay that invoice",
            field="subscription_id",
        )
    opens_on = service.next_due_on - timedelta(days=window_days)
    if today < opens_on:
        return InvalidInput(
            f"service {service.id} is due {service.next_due_on}: it can be renewed from {opens_on}",
            field="subscription_id",
            window_opens_on=opens_on.isoformat(),
        )
    return None


def renewal_window(
    service: Subscription,
    today: date,
    ordered: set[tuple[uuid.UUID, date]] = frozenset(),
    window_days: int = WINDOW_DAYS,
) -> tuple[bool, date | None]:
    """Whether the cart takes an early renewal of `service` today, and the day its window opens
    (None for a service never renewed from the cart: one-time, ended, or ending at period end)."""
    opens = service.live and service.recurring and not service.cancel_at_period_end and service.next_due_on
    opens_on = service.next_due_on - timedelta(days=window_days) if opens else None
    return _renewal_refusal(service, today, ordered, window_days) is None, opens_on


def _check_renewal(service: Subscription, today: date, ordered: set[tuple[uuid.UUID, date]], window_days: int) -> None:
    refusal = _renewal_refusal(service, today, ordered, window_days)
    if refusal is not None:
        raise refusal
