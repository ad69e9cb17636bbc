"""A catalog item: a service, an add-on to services, a package of units or a good, with its
prices per billing cycle (one currency)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from catalog.domain.events import ItemPublished, ItemRetired
from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import Lifecycle

BILLINGS = ("one_time", "recurring")
CURRENCIES = ("EUR", "USD", "GBP", "TRY", "PLN")


class Status(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class Kind(StrEnum):
    SERVICE = "service"  # an additional service (what every item was before kinds)
    ADD_ON = "add_on"  # added to one of its parent services
    UNIT_PACKAGE = "unit_package"  # a number of units bought at once
    GOOD = "good"  # a SKU sold by quantity


class Cycle(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMI_ANNUAL = "semi_annual"
    ANNUAL = "annual"
    BIENNIAL = "biennial"
    TRIENNIAL = "triennial"
    ONE_TIME = "one_time"

    @property
    def months(self) -> int | None:
        """The billing period in months; None for one-time."""
        return _MONTHS.get(self)

    @property
    def billing(self) -> str:
        return "one_time" if self is Cycle.ONE_TIME else "recurring"


_MONTHS = {
    Cycle.MONTHLY: 1,
    Cycle.QUARTERLY: 3,
    Cycle.SEMI_ANNUAL: 6,
    Cycle.ANNUAL: 12,
    Cycle.BIENNIAL: 24,
    Cycle.TRIENNIAL: 36,
}
_BY_MONTHS = {months: cycle for cycle, months in _MONTHS.items()}


def cycle_of(billing: str, billing_period_months: int | None) -> Cycle:
    """The cycle the old `billing` + `billing_period_months` input means."""
    if billing not in BILLINGS:
        raise InvalidInput("billing must be one_time or recurring", field="billing")
    if billing == "one_time":
        if billing_period_months:
            raise InvalidInput("a one-time item has no billing period", field="billing_period_months")
        return Cycle.ONE_TIME
    if not billing_period_months:
        raise InvalidInput("a recurring item needs billing_period_months", field="billing_period_months")
    if billing_period_months not in _BY_MONTHS:
        allowed = ", ".join(str(m) for m in _BY_MONTHS)
        raise InvalidInput(f"billing_period_months must be one of {allowed}", field="billing_period_months")
    return _BY_MONTHS[billing_period_months]


@dataclass(frozen=True)
class CyclePrice:
    cycle: Cycle
    price: Decimal


def _check_price(price: Decimal, field: str) -> None:
    if price < 0:
        raise InvalidInput("price must not be negative", field=field)
    if price != price.quantize(Decimal("0.01")):
        raise InvalidInput("price has at most two decimal places", field=field)


def legacy_prices(price: Decimal, billing: str, billing_period_months: int | None) -> list[CyclePrice]:
    """The old single-price input as cycle prices (its errors name the old fields)."""
    _check_price(price, "price")
    return [CyclePrice(cycle_of(billing, billing_period_months), price)]


def parse_prices(prices: list) -> list[CyclePrice]:
    """`[{"cycle": ..., "price": ...}]` (or CyclePrice) as cycle prices; errors name `prices`."""
    parsed = []
    for p in prices:
        cycle, price = (p.cycle, p.price) if isinstance(p, CyclePrice) else (p["cycle"], p["price"])
        try:
            cycle = Cycle(cycle)
        except ValueError:
            raise InvalidInput(f"prices: unknown cycle {cycle!r}", field="prices") from None
        parsed.append(CyclePrice(cycle, Decimal(price)))
    return parsed


LIFECYCLE = Lifecycle("item", {(Status.ACTIVE, "change"): Status.ACTIVE, (Status.ACTIVE, "retire"): Status.RETIRED})


@dataclass
class Item:
    id: uuid.UUID
    sku: str
    name: str
    description: str
    currency: str
    prices: list[CyclePrice]
    kind: Kind = Kind.SERVICE
    units: int | None = None
    parents: list[uuid.UUID] = field(default_factory=list)
    status: Status = Status.ACTIVE
    revision: int = 1
    created_at: datetime | None = None
    events: list[ItemPublished | ItemRetired] = field(default_factory=list, repr=False)

    # The first price is the item's primary one: what the old single-price fields read.
    @property
    def price(self) -> Decimal:
        return self.prices[0].price

    @property
    def billing(self) -> str:
        return self.prices[0].cycle.billing

    @property
    def billing_period_months(self) -> int | None:
        return self.prices[0].cycle.months

    @classmethod
    def create(
        cls,
        *,
        sku: str,
        name: str,
        description: str,
        currency: str,
        now: datetime,
        kind: Kind | str = Kind.SERVICE,
        prices: list | None = None,
        price: Decimal | None = None,
        billing: str | None = None,
        billing_period_months: int | None = None,
        units: int | None = None,
        parents: list[uuid.UUID] | None = None,
    ) -> Item:
        """Prices come either as `prices` (cycle, price pairs) or as the old `price` + `billing`
        (+ `billing_period_months`), which is one price of the cycle they mean."""
        if prices is not None:
            if price is not None or billing is not None or billing_period_months is not None:
                raise InvalidInput("give prices, or price and billing, not both", field="prices")
            cycle_prices = parse_prices(prices)
        elif price is not None:
            if billing is None:
                raise InvalidInput("billing must be one_time or recurring", field="billing")
            cycle_prices = legacy_prices(price, billing, billing_period_months)
        else:
            raise InvalidInput("an item needs prices (or price and billing)", field="prices")
        item = cls(
            id=uuid.uuid4(),
            sku=sku.strip(),
            name=name.strip(),
            description=description,
            currency=currency,
            prices=cycle_prices,
            kind=_kind(kind),
            units=units,
            parents=list(dict.fromkeys(parents or [])),
            created_at=now,
        )
        item._check()
        item._published(now)
        return item

    def change(self, now: datetime, **fields: object) -> None:
        """Change any of sku, name, description, currency, kind, units, parents, and either
        `prices` (all of them) or the primary price by the old `price`/`billing`/
        `billing_period_months`. Another kind drops units or parents it does not have."""
        LIFECYCLE.target(self.status, "change")
        before = {k: v for k, v in vars(self).items() if k != "events"}
        try:
            self._apply(dict(fields))
            self._check()
        except InvalidInput:
            vars(self).update(before)  # refused: the item stays as it was
            raise
        self.revision += 1
        self._published(now)

    def _apply(self, fields: dict) -> None:
        legacy = {k: fields.pop(k) for k in ("price", "billing", "billing_period_months") if k in fields}
        if "prices" in fields:
            if legacy:
                raise InvalidInput("give prices, or price and billing, not both", field="prices")
            self.prices = parse_prices(fields.pop("prices"))
        elif legacy:
            primary = self.prices[0]
            price = legacy.get("price", primary.price)
            billing = legacy.get("billing", primary.cycle.billing)
            kept = None if billing == "one_time" else primary.cycle.months  # one_time drops the period
            months = legacy.get("billing_period_months", kept)
            self.prices = [*legacy_prices(price, billing, months), *self.prices[1:]]
        if "kind" in fields:
            fields["kind"] = _kind(fields["kind"])
            if fields["kind"] != Kind.UNIT_PACKAGE and "units" not in fields:
                self.units = None
            if fields["kind"] != Kind.ADD_ON and "parents" not in fields:
                self.parents = []
        if "parents" in fields:
            fields["parents"] = list(dict.fromkeys(fields["parents"] or []))
        for name, value in fields.items():
            setattr(self, name, value)

    def retire(self, now: datetime) -> None:
        self.status = LIFECYCLE.target(self.status, "retire")
        self.revision += 1
        self.events.append(ItemRetired(item_id=self.id, revision=self.revision, at=now))

    def _published(self, now: datetime) -> None:
        self.events.append(
            ItemPublished(
                item_id=self.id,
                sku=self.sku,
                name=self.name,
                description=self.description,
                price=self.price,
                currency=self.currency,
                billing=self.billing,
                billing_period_months=self.billing_period_months,
                kind=self.kind,
                prices=tuple((p.cycle, p.price) for p in self.prices),
                units=self.units,
                parents=tuple(self.parents),
                revision=self.revision,
                at=now,
            )
        )

    def _check(self) -> None:
        if not self.sku:
            raise InvalidInput("sku must not be empty", field="sku")
        if not self.name:
            raise InvalidInput("name must not be empty", field="name")
        if self.currency not in CURRENCIES:
            raise InvalidInput(f"currency must be one of {', '.join(CURRENCIES)}", field="currency")
        if not self.prices:
            raise InvalidInput("an item needs at least one price", field="prices")
        for p in self.prices:
            _check_price(p.price, "prices")
        cycles = [p.cycle for p in self.prices]
        if len(set(cycles)) != len(cycles):
            raise InvalidInput("each cycle has one price: a cycle is given twice", field="prices")
        if self.kind == Kind.GOOD and cycles != [Cycle.ONE_TIME]:
            raise InvalidInput("a good is sold once: its one price is one_time", field="prices")
        if self.kind == Kind.UNIT_PACKAGE:
            if self.units is None or isinstance(self.units, bool) or self.units <= 0:
                raise InvalidInput("a unit_package needs a number of units above 0", field="units")
        elif self.units is not None:
            raise InvalidInput("only a unit_package has units", field="units")
        if self.kind == Kind.ADD_ON:
            if not self.parents:
                raise InvalidInput("an add_on needs the service items it may be added to", field="parents")
            if self.id in self.parents:
                raise InvalidInput("an add_on cannot be added to itself", field="parents")
        elif self.parents:
            raise InvalidInput("only an add_on has parents", field="parents")


def _kind(kind: Kind | str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise InvalidInput(f"kind must be one of {', '.join(Kind)}", field="kind") from None
