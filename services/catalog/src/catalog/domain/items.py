"""A catalog item: a service, an add-on to services, a package of units or a good, with its
prices per billing cycle (one currency); an admin may feature an active item with a short text
per language (the client area's banner)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum, StrEnum

from catalog.domain.events import ItemPublished, ItemRetired
from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import Lifecycle

BILLINGS = ("one_time", "recurring")
CURRENCIES = ("EUR", "USD", "GBP", "TRY", "PLN")
LANGUAGES = ("en", "tr", "de", "pl")  # a featured item has a text in each
FEATURED_TEXT_LENGTH = 200
MAX_ATTRIBUTES = 20  # what a customer compares items by (size, material, warranty): name → value
ATTRIBUTE_NAME_LENGTH = 40
ATTRIBUTE_VALUE_LENGTH = 200


class Default(Enum):
    """`max_per_parent` not given: 1 for an add-on, none for another kind (None is "no limit")."""

    DEFAULT = "default"


DEFAULT = Default.DEFAULT


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


TAX_RATE_PLACES = 4


def parse_tax_rate(value: object) -> Decimal | None:
    """A tax rate as a fraction (0.19 is 19 %): 0 ≤ rate < 1, at most 4 places; None: not taxed.
    Errors name `tax_rate`."""
    if value is None:
        return None
    try:
        rate = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except ArithmeticError:
        raise InvalidInput('tax_rate is a decimal fraction, e.g. "0.19"', field="tax_rate") from None
    if not rate.is_finite() or rate < 0 or rate >= 1:
        raise InvalidInput('tax_rate is a fraction from 0 up to (not including) 1, e.g. "0.19"', field="tax_rate")
    if rate != rate.quantize(Decimal(1).scaleb(-TAX_RATE_PLACES)):
        raise InvalidInput(f"tax_rate has at most {TAX_RATE_PLACES} decimal places", field="tax_rate")
    return canonical_rate(rate)


def canonical_rate(rate: Decimal | None) -> Decimal | None:
    """A rate as it is shown: no trailing zeros beyond two places (0.1900 → 0.19, 0.0750 → 0.075, 0 → 0.00)."""
    if rate is None:
        return None
    rate = rate.normalize()
    return rate.quantize(Decimal("0.01")) if rate.as_tuple().exponent > -2 else rate


def _max_per_parent(kind: Kind, value: int | None | Default) -> int | None:
    """An add-on's limit per parent service (1 unless given; None: no limit); other kinds have none."""
    if value is DEFAULT:
        return 1 if kind == Kind.ADD_ON else None
    if kind != Kind.ADD_ON:
        raise InvalidInput("only an add_on has max_per_parent", field="max_per_parent")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidInput("max_per_parent is a whole number from 1, or null for no limit", field="max_per_parent")
    return value


def _featured_texts(texts: Mapping[str, object]) -> dict[str, str]:
    """A text per language, each 1 to 200 characters and not blank; another language is refused."""
    for language in texts:
        if language not in LANGUAGES:
            raise InvalidInput(
                f"{language!r} is no language of the portal ({', '.join(LANGUAGES)})", field=f"texts.{language}"
            )
    for language in LANGUAGES:
        text = texts.get(language)
        if not isinstance(text, str) or not text.strip() or len(text) > FEATURED_TEXT_LENGTH:
            raise InvalidInput(
                f"texts.{language}: a text of 1 to {FEATURED_TEXT_LENGTH} characters, not blank",
                field=f"texts.{language}",
            )
    return {language: texts[language] for language in LANGUAGES}


def parse_attributes(attributes: Mapping[str, object] | None) -> dict[str, str]:
    """At most 20 attributes, each name 1 to 40 characters and each value 1 to 200, neither blank
    (names and values are kept as given, trimmed); errors name `attributes` or `attributes.<name>`."""
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise InvalidInput("attributes is an object of name → value", field="attributes")
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(f"an item has at most {MAX_ATTRIBUTES} attributes", field="attributes")
    parsed: dict[str, str] = {}
    for name, value in attributes.items():
        key = name.strip() if isinstance(name, str) else ""
        if not key or len(key) > ATTRIBUTE_NAME_LENGTH:
            raise InvalidInput(
                f"an attribute's name is 1 to {ATTRIBUTE_NAME_LENGTH} characters, not blank", field="attributes"
            )
        if key.casefold() in {k.casefold() for k in parsed}:
            raise InvalidInput(f"attribute {key!r} is given twice", field=f"attributes.{key}")
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > ATTRIBUTE_VALUE_LENGTH:
            raise InvalidInput(
                f"attributes.{key}: a value of 1 to {ATTRIBUTE_VALUE_LENGTH} characters, not blank",
                field=f"attributes.{key}",
            )
        parsed[key] = value.strip()
    return parsed


LIFECYCLE = Lifecycle(
    "item",
    {
        (Status.ACTIVE, "change"): Status.ACTIVE,
        (Status.ACTIVE, "feature"): Status.ACTIVE,
        (Status.ACTIVE, "retire"): Status.RETIRED,
    },
)


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
    max_per_parent: int | None = None  # an add-on's (None: no limit); other kinds have none
    featured: dict[str, str] | None = None  # a text per language while featured
    attributes: dict[str, str] = field(default_factory=dict)  # name → value, in the admin's order
    tax_rate: Decimal | None = None  # the tax rate of its prices, a fraction (0.19); None: not taxed
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
        max_per_parent: int | None | Default = DEFAULT,
        attributes: Mapping[str, object] | None = None,
        tax_rate: Decimal | str | None = None,
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
        kind = _kind(kind)
        item = cls(
            id=uuid.uuid4(),
            sku=sku.strip(),
            name=name.strip(),
            description=description,
            currency=currency,
            prices=cycle_prices,
            kind=kind,
            units=units,
            parents=list(dict.fromkeys(parents or [])),
            max_per_parent=_max_per_parent(kind, max_per_parent),
            attributes=parse_attributes(attributes),
            tax_rate=parse_tax_rate(tax_rate),
            created_at=now,
        )
        item._check()
        item._published(now)
        return item

    def change(self, now: datetime, **fields: object) -> None:
        """Change any of sku, name, description, currency, kind, units, parents, max_per_parent,
        tax_rate (None: not taxed), attributes (all of them: the given ones replace the item's), and
        either `prices` (all of them) or the primary price by the old `price`/`billing`/`billing_period_months`.
        Another kind drops units, parents or max_per_parent it does not have (an item becoming an
        add-on may be added once per parent unless told otherwise)."""
        LIFECYCLE.target(self.status, "change")
        before = {k: v for k, v in vars(self).items() if k != "events"}
        try:
            self._apply(dict(fields))
            self._check()
        except InvalidInput:
            vars(self).update(before)  # refused: the item stays as it was
            raise
        self._revised(now)

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
            if fields["kind"] != self.kind and "max_per_parent" not in fields:
                self.max_per_parent = _max_per_parent(fields["kind"], DEFAULT)
        if "max_per_parent" in fields:
            fields["max_per_parent"] = _max_per_parent(fields.get("kind", self.kind), fields["max_per_parent"])
        if "parents" in fields:
            fields["parents"] = list(dict.fromkeys(fields["parents"] or []))
        if "attributes" in fields:
            fields["attributes"] = parse_attributes(fields["attributes"])
        if "tax_rate" in fields:
            fields["tax_rate"] = parse_tax_rate(fields["tax_rate"])
        for name, value in fields.items():
            setattr(self, name, value)

    def feature(self, texts: Mapping[str, object], now: datetime) -> None:
        """Feature the item with a text per language (only an active one); the same texts again change nothing."""
        LIFECYCLE.target(self.status, "feature")
        texts = _featured_texts(texts)
        if texts != self.featured:
            self.featured = texts
            self._revised(now)

    def unfeature(self, now: datetime) -> None:
        """No longer featured; an item that is not featured stays as it is."""
        if self.featured is not None:
            self.featured = None
            self._revised(now)

    def retire(self, now: datetime) -> None:
        """No longer offered, nor featured."""
        self.status = LIFECYCLE.target(self.status, "retire")
        self.featured = None
        self.revision += 1
        self.events.append(ItemRetired(item_id=self.id, revision=self.revision, at=now))

    def _revised(self, now: datetime) -> None:
        self.revision += 1
        self._published(now)

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
                max_per_parent=self.max_per_parent,
                featured=None if self.featured is None else tuple((k, self.featured[k]) for k in LANGUAGES),
                revision=self.revision,
                at=now,
                attributes=tuple(self.attributes.items()),
                tax_rate=self.tax_rate,
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
