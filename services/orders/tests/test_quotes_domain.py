"""The quote aggregate without a database: lines priced by the server (given or catalog price), one
currency, valid_until today or later, the transition table (409 naming the current status), accepted
on its valid_until day but not after, the expiring notice once, expired once its date has passed."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from orders_testkit import NOW, offer

from orders.domain import quotes
from orders.domain.offers import Offer
from orders.domain.quotes import LineIn, Quote, Status, quote_line
from portal_runtime.errors import Conflict, InvalidInput
from portal_runtime.lifecycle import InvalidTransition

TODAY = NOW.date()


def good(price: str = "15.00", currency: str = "EUR") -> Offer:
    return replace(
        offer(price, currency, billing="one_time", name="Valve"), kind="good", prices=(("one_time", Decimal(price)),)
    )


def service() -> Offer:
    return replace(
        offer("10.00", name="Hosting"),
        prices=(("monthly", Decimal("10.00")), ("annual", Decimal("100.00"))),
    )


def draft(*lines, valid_until: date = TODAY + timedelta(days=10), offers=None) -> Quote:
    offers = offers or {o.item_id: o for o in (good(),)}
    priced = [quote_line(line, offers, at=f"lines[{i}]") for i, line in enumerate(lines)]
    return Quote.prepare(
        account_id="acme",
        number="Q-000001",
        lines=priced,
        valid_until=valid_until,
        note=" spring ",
        today=TODAY,
        by="ops/admin",
        now=NOW,
    )


def sent(valid_until: date = TODAY + timedelta(days=10)) -> Quote:
    valve = good()
    quote = draft(LineIn(valve.item_id, 2), valid_until=valid_until, offers={valve.item_id: valve})
    quote.send(today=TODAY, by="ops/admin", now=NOW)
    return quote


def test_lines_take_the_given_price_or_the_catalogs_and_the_server_computes_the_totals():
    valve, hosting = good("15.00"), service()
    offers = {valve.item_id: valve, hosting.item_id: hosting}
    quote = draft(
        LineIn(valve.item_id, 10),
        LineIn(hosting.item_id, 2, Decimal("90.00"), "annual"),
        offers=offers,
    )
    assert [(line.kind, line.cycle, line.unit_price, line.amount) for line in quote.lines] == [
        ("good", "one_time", Decimal("15.00"), Decimal("150.00")),
        ("service", "annual", Decimal("90.00"), Decimal("180.00")),
    ]
    assert (quote.total, quote.currency, quote.note, quote.status) == (Decimal("330.00"), "EUR", "spring", "draft")
    assert quote_line(LineIn(hosting.item_id, 1), offers).unit_price == Decimal("10.00")  # its primary cycle
    assert quote_line(LineIn(hosting.item_id, 1, cycle="annual"), offers).unit_price == Decimal("100.00")


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (lambda v, h: LineIn(v, 0), "lines[0].quantity"),
        (lambda v, h: LineIn(v, 1, Decimal("-1")), "lines[0].unit_price"),
        (lambda v, h: LineIn(v, 1, Decimal("1.005")), "lines[0].unit_price"),
        (lambda v, h: LineIn(h, 1, cycle="quarterly"), "lines[0].cycle"),
        (lambda v, h: LineIn(v, 1, cycle="monthly"), "lines[0].cycle"),
    ],
)
def test_a_bad_line_is_a_422_naming_its_field(line, field):
    valve, hosting = good(), service()
    offers = {valve.item_id: valve, hosting.item_id: hosting}
    with pytest.raises(InvalidInput) as refused:
        quote_line(line(valve.item_id, hosting.item_id), offers, at="lines[0]")
    assert refused.value.field == field


def test_retired_unknown_add_on_and_mixed_currency_lines_are_refused():
    retired = replace(good(), status="retired")
    add_on = replace(service(), kind="add_on")
    with pytest.raises(InvalidInput, match="not offered"):
        quote_line(LineIn(retired.item_id, 1), {retired.item_id: retired})
    with pytest.raises(InvalidInput, match="add_on"):
        quote_line(LineIn(add_on.item_id, 1), {add_on.item_id: add_on})
    unknown = uuid.uuid4()
    with pytest.raises(Conflict) as not_yet:
        quote_line(LineIn(unknown, 1), {}, at="lines[3]")
    assert (not_yet.value.field, not_yet.value.retry_after) == ("lines[3].item_id", 1)
    eur, usd = good(), good(currency="USD")
    with pytest.raises(InvalidInput) as mixed:
        draft(LineIn(eur.item_id, 1), LineIn(usd.item_id, 1), offers={eur.item_id: eur, usd.item_id: usd})
    assert mixed.value.field == "lines"
    with pytest.raises(InvalidInput) as empty:
        draft()
    assert empty.value.field == "lines"


def test_valid_until_is_today_or_later():
    valve = good()
    assert draft(LineIn(valve.item_id, 1), valid_until=TODAY, offers={valve.item_id: valve}).valid_until == TODAY
    with pytest.raises(InvalidInput) as refused:
        draft(LineIn(valve.item_id, 1), valid_until=TODAY - timedelta(days=1), offers={valve.item_id: valve})
    assert refused.value.field == "valid_until"


def test_the_transition_table_and_its_history():
    quote = sent()
    assert [(t.from_status, t.to_status) for t in quote.history] == [(None, "draft"), ("draft", "sent")]
    (event,) = quote.events
    assert isinstance(event, quotes.QuoteSent) and event.total == Decimal("30.00")
    with pytest.raises(InvalidTransition) as again:
        quote.send(today=TODAY, by="ops/admin", now=NOW)
    assert again.value.current_status == Status.SENT
    with pytest.raises(InvalidTransition):  # lines change while a draft only
        quote.revise(lines=quote.lines, valid_until=quote.valid_until, note="", today=TODAY, now=NOW)
    quote.reject(" too dear ", by="acme/buyer", now=NOW)
    assert (quote.status, quote.reason, quote.history[-1].note) == ("rejected", "too dear", "too dear")
    with pytest.raises(InvalidTransition) as late:
        quote.check_acceptable(TODAY)
    assert late.value.current_status == Status.REJECTED
    assert not quote.expire(TODAY + timedelta(days=30), by="quotes", now=NOW)


def test_it_may_be_accepted_on_its_last_day_and_not_after():
    quote = sent(valid_until=TODAY + timedelta(days=2))
    assert quote.check_acceptable(TODAY + timedelta(days=2))
    with pytest.raises(Conflict) as lapsed:
        quote.check_acceptable(TODAY + timedelta(days=3))
    assert lapsed.value.extra["current_status"] == "expired"


def test_accepted_once_then_check_acceptable_says_so():
    quote = sent()
    order = type("O", (), {"id": uuid.uuid4(), "number": "ORD-2026-000001"})()
    quote.accept(order, today=TODAY, by="acme/buyer", now=NOW)
    assert (quote.status, quote.order_id, quote.history[-1].note) == ("accepted", order.id, "order ORD-2026-000001")
    assert isinstance(quote.events[-1], quotes.QuoteAccepted)
    assert quote.check_acceptable(TODAY) is False
    with pytest.raises(Conflict):
        quote.accept(order, today=TODAY, by="acme/buyer", now=NOW)


def test_expiring_is_told_once_within_the_days_and_expired_once_the_date_has_passed():
    until = TODAY + timedelta(days=10)
    quote = sent(valid_until=until)
    quote.events.clear()
    assert not quote.notice_expiring(until - timedelta(days=4), 3, now=NOW)
    assert quote.notice_expiring(until - timedelta(days=3), 3, now=NOW)
    assert not quote.notice_expiring(until - timedelta(days=2), 3, now=NOW)
    assert not quote.expire(until, by="quotes", now=NOW)  # still valid on its last day
    assert quote.expire(until + timedelta(days=1), by="quotes", now=NOW)
    assert not quote.expire(until + timedelta(days=2), by="quotes", now=NOW)
    assert [type(e).__name__ for e in quote.events] == ["QuoteExpiring", "QuoteExpired"]
    assert (quote.status, quote.history[-1].by) == ("expired", "quotes")
    with pytest.raises(InvalidTransition) as late:
        quote.check_acceptable(until)
    assert late.value.current_status == Status.EXPIRED


def test_a_draft_past_its_date_is_not_sent():
    valve = good()
    quote = draft(LineIn(valve.item_id, 1), valid_until=TODAY, offers={valve.item_id: valve})
    with pytest.raises(InvalidInput) as stale:
        quote.send(today=TODAY + timedelta(days=1), by="ops/admin", now=NOW)
    assert (stale.value.field, quote.status) == ("valid_until", "draft")


def test_the_events_map_to_the_contracts():
    from orders.adapters.events import to_contract

    quote = sent()
    contract = to_contract(quote.events[0])
    assert (type(contract).__name__, contract.total.amount, contract.lines[0].unit_price.amount) == (
        "QuoteSent",
        Decimal("30.00"),
        Decimal("15.00"),
    )
    quote.reject("", by="acme/buyer", now=NOW)
    assert to_contract(quote.events[-1]).reason == ""
