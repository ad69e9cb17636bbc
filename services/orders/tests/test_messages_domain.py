"""An order's message: its body kept stripped, 1 to 5000 characters (else 422 naming `body`), and
the one OrderMessagePosted it raises, mapped to the contract on `orders.messages`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from orders.adapters.events import to_contract
from orders.domain.messages import OrderMessage, Side
from portal_runtime.errors import InvalidInput

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def post(body: str, side: Side = Side.CUSTOMER, name: str | None = "Ada") -> OrderMessage:
    return OrderMessage.post(
        order_id=uuid.uuid4(),
        number="ORD-2026-000001",
        account_id="acme",
        side=side,
        author="acme/ada",
        author_name=name,
        body=body,
        now=NOW,
    )


def test_a_message_keeps_its_body_stripped_and_raises_one_event_for_the_other_side():
    message = post("  Friday, please.\n")
    assert message.body == "Friday, please." and message.posted_at == NOW
    [event] = message.events
    contract = to_contract(event)
    assert contract.model_dump(mode="json") == {
        "message_id": str(message.id),
        "order_id": str(message.order_id),
        "number": "ORD-2026-000001",
        "account_id": "acme",
        "side": "customer",
        "author": "acme/ada",
        "author_name": "Ada",
        "body": "Friday, please.",
        "posted_at": "2026-12-01T09:00:00Z",
    }
    assert to_contract(post("ok", Side.BUSINESS, None).events[0]).side == "business"


@pytest.mark.parametrize("body", ["", "   ", "\n\t", "x" * 5001, None])
def test_an_empty_or_too_long_body_is_refused_naming_body(body):
    with pytest.raises(InvalidInput) as refused:
        post(body)
    assert refused.value.field == "body"


def test_5000_characters_once_stripped_are_taken():
    assert len(post(" " * 10 + "x" * 5000 + " " * 10).body) == 5000
