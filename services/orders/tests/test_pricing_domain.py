import uuid
from decimal import Decimal

import pytest
from orders_testkit import offer

from orders.domain.pricing import cents, price
from portal_runtime.errors import Conflict


def test_line_totals_and_total_are_decimal_and_rounded_half_up():
    a, b = offer("0.10"), offer("19.99")
    s = price([(a.item_id, 3), (b.item_id, 2)], {a.item_id: a, b.item_id: b})
    assert [line.line_total for line in s.lines] == [Decimal("0.30"), Decimal("39.98")]
    assert s.total == Decimal("40.28") and s.currency == "EUR" and s.problems == ()
    assert cents(Decimal("0.005")) == Decimal("0.01")


def test_unknown_retired_and_foreign_currency_lines_are_problems_and_leave_no_total():
    a, gone, usd = offer(), offer(status="retired"), offer(currency="USD")
    unknown = uuid.uuid4()
    s = price(
        [(a.item_id, 1), (gone.item_id, 1), (unknown, 1), (usd.item_id, 1)], {o.item_id: o for o in (a, gone, usd)}
    )
    assert s.total is None
    assert [p.item_id for p in s.problems] == [gone.item_id, unknown, usd.item_id]
    assert [line.available for line in s.lines] == [True, False, False, True]
    with pytest.raises(Conflict) as err:  # the draft's state, not the (empty) input of a submit
        s.require_submittable()
    assert err.value.extra["item_id"] == str(gone.item_id)


def test_an_empty_request_has_no_total():
    s = price([], {})
    assert s.total is None and s.lines == ()
