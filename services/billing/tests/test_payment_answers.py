"""Billing's payment endpoint over real HTTP (PostgreSQL; no Kafka needed: no consumer, no relay):
payments sent at once on one invoice never charge more than is due, and money in answers has
the currency's decimals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from billing_testkit import CARD_DECLINED, CARD_OK

from billing.adapters.gateway import InMemorySandboxGateway
from billing.bootstrap import definition
from billing.domain.invoices import Line
from billing.http.invoices import money
from billing.service.invoices import BillingService, IssueInvoice
from billing.settings import BillingSettings
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, running_service

CLOCK_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


class SlowGateway(InMemorySandboxGateway):
    """Counts the card charges and takes a moment for each, so that concurrent requests overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def charge_card(self, **kw):
        self.calls += 1
        await asyncio.sleep(0.3)
        return await super().charge_card(**kw)


async def billing(new_database, kafka, gateway: InMemorySandboxGateway):
    url = await new_database("billing")
    return running_service(
        definition(gateway=gateway),
        database_url=url,
        kafka=kafka,
        clock=FrozenClock(CLOCK_AT),
        consume=False,
        relay=False,
    )


async def issue(rt, gateway, account: str, lines: list[Line], total: str):
    """An invoice as the consumer issues it for an approved request (without going through Kafka)."""
    use_cases = BillingService(rt.uow, rt.clock, gateway, BillingSettings().payee())
    return await use_cases.issue_invoice(IssueInvoice(uuid.uuid4(), account, "EUR", lines, Decimal(total)))


def card_payment(amount: str) -> dict:
    return {"method": "card", "amount": amount, "currency": "EUR", "payer_reference": "acme-ap", "card": CARD_OK}


async def test_two_payments_with_different_keys_at_once_never_charge_more_than_is_due(new_database, kafka):
    """100 + 100 on an invoice of 129.70, at once: the invoice row lock (FOR UPDATE on its load)
    makes the second see the first's payment, so it is refused before its card is charged."""
    gateway = SlowGateway()
    async with await billing(new_database, kafka, gateway) as (rt, http):
        invoice = await issue(rt, gateway, "acme", [Line("Hosting", 1, Decimal("129.70"))], "129.70")
        url = f"/v1/invoices/{invoice.id}/payments"
        answers = await asyncio.gather(
            *(
                http.post(url, json=card_payment("100.00"), headers={**bearer("acme"), "Idempotency-Key": key})
                for key in ("first", "second")
            )
        )
        after = (await http.get(f"/v1/invoices/{invoice.id}", headers=bearer("acme"))).json()
    by_status = {a.status_code: a for a in answers}
    assert sorted(by_status) == [201, 422], [a.text for a in answers]
    assert by_status[422].json()["field"] == "amount" and by_status[422].json()["balance_due"] == "29.70"
    assert gateway.calls == 1  # the refused one was never charged
    assert after["amount_paid"] == "100.00" and after["balance_due"] == "29.70" and len(after["payments"]) == 1


async def test_a_declined_card_replays_its_402_and_another_body_is_422(new_database, kafka):
    gateway = SlowGateway()
    async with await billing(new_database, kafka, gateway) as (rt, http):
        invoice = await issue(rt, gateway, "acme", [Line("Hosting", 1, Decimal("129.70"))], "129.70")
        url = f"/v1/invoices/{invoice.id}/payments"
        headers = {**bearer("acme"), "Idempotency-Key": "declined"}
        declined = {**card_payment("10.00"), "card": CARD_DECLINED}
        first = await http.post(url, json=declined, headers=headers)
        again = await http.post(url, json=declined, headers=headers)
        other = await http.post(url, json=card_payment("10.00"), headers=headers)
        after = (await http.get(f"/v1/invoices/{invoice.id}", headers=bearer("acme"))).json()
    assert first.status_code == again.status_code == 402 and first.json()["reason"] == "card_declined"
    assert again.content == first.content and gateway.calls == 1
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    assert after["payments"] == [] and after["status"] == "issued"


async def test_money_in_answers_has_the_currencys_decimals(new_database, kafka):
    gateway = SlowGateway()
    async with await billing(new_database, kafka, gateway) as (rt, http):
        invoice = await issue(rt, gateway, "acme", [Line("Hosting", 3, Decimal("33.33"))], "99.99")
        paid = await http.post(
            f"/v1/invoices/{invoice.id}/payments",
            json=card_payment("10.1"),
            headers={**bearer("acme"), "Idempotency-Key": "ten"},
        )
        read = (await http.get(f"/v1/invoices/{invoice.id}", headers=bearer("acme"))).json()
        listed = (await http.get("/v1/invoices", headers=bearer("acme"))).json()["items"][0]
    assert paid.status_code == 201, paid.text
    answer = paid.json()
    assert answer["payment"]["amount"] == "10.10"
    assert (answer["invoice"]["amount_paid"], answer["invoice"]["balance_due"]) == ("10.10", "89.89")
    assert [(line["unit_price"], line["line_total"]) for line in answer["invoice"]["lines"]] == [("33.33", "99.99")]
    assert [(line["unit_price"], line["line_total"]) for line in read["lines"]] == [("33.33", "99.99")]  # not 33.3300
    assert read["payments"][0]["amount"] == "10.10" and read["amount_paid"] == "10.10"
    assert (listed["total"], listed["amount_paid"], listed["balance_due"]) == ("99.99", "10.10", "89.89")


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("10.1", "EUR", "10.10"),
        ("33.3300", "EUR", "33.33"),
        ("100", "EUR", "100.00"),
        ("0", "EUR", "0.00"),
        ("33.3333", "EUR", "33.3333"),  # a unit price finer than a cent keeps its digits
        ("1500", "JPY", "1500"),
        ("1.5", "KWD", "1.500"),
    ],
)
def test_money_shows_at_least_the_currencys_decimals(amount, currency, shown):
    assert str(money(Decimal(amount), currency)) == shown
