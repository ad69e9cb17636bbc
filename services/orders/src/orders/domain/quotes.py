"""A quote: lines and prices the business offers one account, valid until a date (inclusive).

    draft → sent → accepted | rejected | expired

An admin prepares a draft (its lines change while a draft only) and sends it (QuoteSent); the
customer accepts it (QuoteAccepted: ONE order at the quote's prices, `place_order`; accepting again
answers the same order and places nothing), rejects it (QuoteRejected), or lets it pass its
`valid_until` (the quotes job: QuoteExpiring a few days before, once; QuoteExpired once the date has
passed). A move the table has not is an `InvalidTransition` (409 naming `current_status`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from orders.domain.lines import LineKind, OrderLine
from orders.domain.offers import NotOfferedYet, Offer, months_of
from orders.domain.orders import Order, Source
from portal_runtime.errors import Conflict, InvalidInput
from portal_runtime.kernel import add_months, cents
from portal_runtime.lifecycle import Lifecycle, Transition


class Status(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"


LIFECYCLE = Lifecycle(
    "quote",
    {
        (Status.DRAFT, "edit"): Status.DRAFT,
        (Status.DRAFT, "send"): Status.SENT,
        (Status.SENT, "accept"): Status.ACCEPTED,
        (Status.SENT, "reject"): Status.REJECTED,
        (Status.SENT, "expire"): Status.EXPIRED,
    },
)
CUSTOMER_STATUSES = (Status.SENT, Status.ACCEPTED, Status.REJECTED, Status.EXPIRED)  # a draft is the admin's
QUOTABLE_KINDS = ("service", "good")  # an add-on needs its parent service, a unit package its service
MAX_LINES = 50
MAX_QUANTITY = 10_000
MAX_PRICE = Decimal("9999999999.99")
MAX_TEXT = 2000


# -- events --------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuoteSent:
    quote_id: uuid.UUID
    number: str
    account_id: str
    currency: str
    lines: tuple[QuoteLine, ...]
    total: Decimal
    valid_until: date
    note: str
    by: str
    at: datetime


@dataclass(frozen=True)
class QuoteAccepted:
    quote_id: uuid.UUID
    number: str
    account_id: str
    order_id: uuid.UUID
    by: str
    at: datetime


@dataclass(frozen=True)
class QuoteRejected:
    quote_id: uuid.UUID
    number: str
    account_id: str
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class QuoteExpiring:
    quote_id: uuid.UUID
    number: str
    account_id: str
    currency: str
    total: Decimal
    valid_until: date
    at: datetime


@dataclass(frozen=True)
class QuoteExpired:
    quote_id: uuid.UUID
    number: str
    account_id: str
    valid_until: date
    at: datetime


QuoteEvent = QuoteSent | QuoteAccepted | QuoteRejected | QuoteExpiring | QuoteExpired


# -- lines ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuoteLine:
    """One line at the price offered: `amount` = quantity × unit_price (server-computed). `kind` is
    the catalog kind (service: becomes a service in `cycle` once ordered; good: a quantity)."""

    line_id: uuid.UUID
    item_id: uuid.UUID
    sku: str | None
    name: str
    kind: str
    cycle: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class LineIn:
    """A line as an admin asks for it: the price and cycle are optional."""

    item_id: uuid.UUID
    quantity: int
    unit_price: Decimal | None = None
    cycle: str | None = None


def quote_line(line: LineIn, offers: Mapping[uuid.UUID, Offer], *, at: str = "lines[0]") -> QuoteLine:
    """The line priced: the given unit price, else the catalog copy's one-time price (a good), or the
    price of the given cycle (a service; its primary cycle when none is given). `at` prefixes the
    field named in a refusal (`lines[2].unit_price`)."""
    if not 1 <= line.quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity must be between 1 and {MAX_QUANTITY}", field=f"{at}.quantity")
    offer = offers.get(line.item_id)
    if offer is None:
        raise NotOfferedYet(
            f"item {line.item_id} is not offered (yet): orders has not heard of it; try again after Retry-After",
            field=f"{at}.item_id",
            item_id=str(line.item_id),
        )
    if not offer.is_offered:
        raise InvalidInput(f"item {line.item_id} is not offered", field=f"{at}.item_id", item_id=str(line.item_id))
    if offer.kind not in QUOTABLE_KINDS:
        raise InvalidInput(
            f"item {line.item_id} is a {offer.kind}: a quote offers services and goods",
            field=f"{at}.item_id",
            item_id=str(line.item_id),
        )
    cycles = offer.cycles
    cycle = line.cycle or ("one_time" if "one_time" in cycles or not cycles else cycles[0])
    if cycles and cycle not in cycles:
        raise InvalidInput(f"item {line.item_id} is sold {', '.join(cycles)}, not {cycle}", field=f"{at}.cycle")
    if offer.kind == "good" and cycle != "one_time":
        raise InvalidInput("a good is sold one_time", field=f"{at}.cycle")
    price = line.unit_price if line.unit_price is not None else offer.price_for(cycle)
    if price is None and line.unit_price is None and offer.kind == "good":
        price = offer.price
    if price is None:
        raise InvalidInput(f"item {line.item_id} has no {cycle} price: give unit_price", field=f"{at}.unit_price")
    price = _price(price, f"{at}.unit_price")
    return QuoteLine(
        line_id=uuid.uuid4(),
        item_id=offer.item_id,
        sku=offer.sku,
        name=offer.name or "",
        kind=offer.kind,
        cycle=cycle,
        quantity=line.quantity,
        unit_price=price,
        amount=cents(price * line.quantity),
        currency=offer.currency or "",
    )


def _price(value: Decimal, name: str) -> Decimal:
    try:
        exact = Decimal(value)
        ok = exact.is_finite() and Decimal("0") <= exact <= MAX_PRICE and exact == exact.quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidInput(f"{name} must be an amount from 0 to {MAX_PRICE} with at most 2 decimals", field=name)
    return exact.quantize(Decimal("0.01"))


def _checked(lines: Sequence[QuoteLine]) -> tuple[QuoteLine, ...]:
    if not lines:
        raise InvalidInput("a quote has at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"a quote has at most {MAX_LINES} lines", field="lines")
    currencies = sorted({line.currency for line in lines})
    if len(currencies) > 1:
        raise InvalidInput(f"a quote has one currency, not {', '.join(currencies)}", field="lines")
    if len({line.item_id for line in lines}) != len(lines):
        raise InvalidInput("each item appears once in lines", field="lines")
    return tuple(lines)


def _valid_until(valid_until: date, today: date) -> date:
    if valid_until < today:
        raise InvalidInput(f"valid_until must be today ({today}) or later", field="valid_until")
    return valid_until


def _text(value: str | None, name: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{name} is longer than {MAX_TEXT} characters", field=name)
    return value


# -- the aggregate -------------------------------------------------------------------------
@dataclass
class Quote:
    id: uuid.UUID
    number: str
    account_id: str
    status: Status
    lines: tuple[QuoteLine, ...]
    valid_until: date
    note: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    sent_at: datetime | None = None
    order_id: uuid.UUID | None = None  # the one order accepting it placed
    reason: str | None = None  # why it was rejected
    expiring_noticed_at: datetime | None = None  # QuoteExpiring told (once)
    history: list[Transition[Status]] = field(default_factory=list, repr=False)
    events: list[QuoteEvent] = field(default_factory=list, repr=False)

    @classmethod
    def prepare(
        cls,
        *,
        account_id: str,
        number: str,
        lines: Sequence[QuoteLine],
        valid_until: date,
        note: str | None,
        today: date,
        by: str,
        now: datetime,
    ) -> Quote:
        """A draft (no event: nothing outside orders hears of a draft)."""
        quote = cls(
            id=uuid.uuid4(),
            number=number,
            account_id=account_id,
            status=Status.DRAFT,
            lines=_checked(lines),
            valid_until=_valid_until(valid_until, today),
            note=_text(note, "note"),
            created_at=now,
            created_by=by,
            updated_at=now,
        )
        quote.history.append(LIFECYCLE.begin(Status.DRAFT, by=by, at=now))
        return quote

    @property
    def currency(self) -> str:
        return self.lines[0].currency

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def item_ids(self) -> list[uuid.UUID]:
        return [line.item_id for line in self.lines]

    def revise(
        self, *, lines: Sequence[QuoteLine], valid_until: date, note: str | None, today: date, now: datetime
    ) -> None:
        """A draft's lines, validity and note replaced (a sent quote is a 409)."""
        LIFECYCLE.target(self.status, "edit")
        self.lines = _checked(lines)
        self.valid_until = _valid_until(valid_until, today)
        self.note = _text(note, "note")
        self.updated_at = now

    def send(self, *, today: date, by: str, now: datetime) -> None:
        LIFECYCLE.target(self.status, "send")
        _valid_until(self.valid_until, today)  # a draft left lying past its date is revised first
        self._move("send", by=by, now=now)
        self.sent_at = now
        self.events.append(
            QuoteSent(
                **self._ids(),
                currency=self.currency,
                lines=self.lines,
                total=self.total,
                valid_until=self.valid_until,
                note=self.note,
                by=by,
                at=now,
            )
        )

    def lapsed(self, today: date) -> bool:
        """Past its validity (it may be accepted on the valid_until day itself)."""
        return today > self.valid_until

    def check_acceptable(self, today: date) -> bool:
        """False when accepted already (the same order answers); a 409 with `current_status` when
        it cannot be accepted: rejected, expired, or sent but past its validity (the job has not run
        yet: it answers as the expired quote it is)."""
        if self.status == Status.ACCEPTED:
            return False
        if self.status == Status.SENT and self.lapsed(today):
            raise Conflict(
                f"quote {self.number} expired: it was valid until {self.valid_until}",
                current_status=str(Status.EXPIRED),
            )
        LIFECYCLE.target(self.status, "accept")
        return True

    def accept(self, order: Order, *, today: date, by: str, now: datetime) -> None:
        """Accepted with the order `place_order` made of it (QuoteAccepted)."""
        if not self.check_acceptable(today):
            raise Conflict(f"quote {self.number} is accepted already", current_status=str(self.status))
        self._move("accept", by=by, now=now, note=f"order {order.number}")
        self.order_id = order.id
        self.events.append(QuoteAccepted(**self._ids(), order_id=order.id, by=by, at=now))

    def reject(self, reason: str | None, *, by: str, now: datetime) -> None:
        LIFECYCLE.target(self.status, "reject")
        reason = _text(reason, "reason")
        self._move("reject", by=by, now=now, note=reason or None)
        self.reason = reason
        self.events.append(QuoteRejected(**self._ids(), reason=reason, by=by, at=now))

    def notice_expiring(self, as_of: date, days_before: int, *, now: datetime) -> bool:
        """QuoteExpiring once, from `days_before` days before valid_until to that day; True when told now."""
        if self.status != Status.SENT or self.expiring_noticed_at is not None:
            return False
        if not 0 <= (self.valid_until - as_of).days <= days_before:
            return False
        self.expiring_noticed_at = now
        self.events.append(
            QuoteExpiring(**self._ids(), currency=self.currency, total=self.total, valid_until=self.valid_until, at=now)
        )
        return True

    def expire(self, as_of: date, *, by: str, now: datetime) -> bool:
        """Sent and past valid_until as of `as_of`: expired (QuoteExpired); True when it moved now."""
        if self.status != Status.SENT or not self.lapsed(as_of):
            return False
        self._move("expire", by=by, now=now, note=f"valid until {self.valid_until}")
        self.events.append(QuoteExpired(**self._ids(), valid_until=self.valid_until, at=now))
        return True

    def _ids(self) -> dict:
        return {"quote_id": self.id, "number": self.number, "account_id": self.account_id}

    def _move(self, action: str, *, by: str, now: datetime, note: str | None = None) -> None:
        step = LIFECYCLE.move(self.status, action, by=by, at=now, note=note)
        self.status, self.updated_at = step.to_status, now
        self.history.append(step)


# -- the one order -------------------------------------------------------------------------
def order_line(line: QuoteLine, today: date) -> OrderLine:
    """The order's line at the quote's price: a good as a quantity; a service as a new service in
    the quoted cycle, from today."""
    common = {
        "line_id": uuid.uuid4(),
        "item_id": line.item_id,
        "sku": line.sku,
        "name": line.name,
        "cycle": line.cycle,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "amount": line.amount,
        "currency": line.currency,
    }
    if line.kind == "good":
        return OrderLine(**common, **_good())
    months = months_of(line.cycle)
    return OrderLine(
        **common,
        kind=LineKind.NEW,
        subscription_id=uuid.uuid4(),
        period_start=today,
        period_end=add_months(today, months) if months else None,
    )


def _good() -> dict:
    """The fields of a goods line: no service, no period."""
    return {"kind": LineKind.GOOD, "subscription_id": None, "period_start": None, "period_end": None}


def place_order(
    quote: Quote,
    *,
    number: str,
    by: str,
    now: datetime,
    today: date,
    payment_terms_days: int | None = None,
    tax_rates: Mapping[uuid.UUID, Decimal | None] | None = None,
) -> Order:
    """THE one call placing a quote's order: its lines at the quote's prices, source quote (with the
    account's payment terms); each line at its item's tax rate now (`tax_rates`: item id → rate)."""
    return Order.place(
        account_id=quote.account_id,
        number=number,
        source=Source.QUOTE,
        lines=[order_line(line, today) for line in quote.lines],
        by=by,
        now=now,
        placed_on=today,
        quote_id=quote.id,
        placed_by=by,
        payment_terms_days=payment_terms_days,
        tax_rates=tax_rates,
    )
