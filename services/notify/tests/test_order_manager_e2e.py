"""The order manager's emails (issue 15) through notify on the real Kafka, PostgreSQL and a real SMTP
server: a shipment told twice is one email, the partial and the last shipment, the cancellation and the
business's message reach the account in its language; the customer's message reaches BUSINESS_EMAIL in
BUSINESS_LANGUAGE, and the customer's list of deliveries does not show it."""

from __future__ import annotations

import uuid

from order_manager_samples import ORDER, first_shipment, last_shipment, message, order_cancelled
from test_notify_e2e import ADMIN, account, caused_by_events, confirmed, envelope, produce, settings

from notify.bootstrap import definition
from portal_runtime.testing import bearer, eventually, running_service

DESK = "desk@business.test"


async def test_the_order_managers_emails_reach_both_sides_once_each(new_database, kafka, smtp):
    acct, address = account()
    told = {"account_id": acct}
    config = settings(smtp.port).model_copy(update={"business_email": DESK, "business_language": "de"})
    async with running_service(definition(config), database_url=await new_database("notify"), kafka=kafka) as (
        _,
        http,
    ):
        await confirmed(kafka, http, smtp, acct, address, "pl")
        shipped = envelope(first_shipment().model_copy(update=told))
        await produce(kafka, shipped, shipped)  # delivered twice
        await produce(
            kafka,
            envelope(last_shipment().model_copy(update=told)),
            envelope(message("business").model_copy(update=told)),
            envelope(message("customer", author_name="Ayla Yılmaz", message_id=uuid.uuid4()).model_copy(update=told)),
            envelope(order_cancelled(settlement="credit").model_copy(update=told)),
        )

        def all_arrived():
            to_account, to_desk = caused_by_events(smtp, address), smtp.mail.to(DESK)
            return (to_account, to_desk) if len(to_account) >= 4 and to_desk else None

        to_account, [to_desk] = await eventually(all_arrived, what="the order manager's emails", timeout=60)
        assert sorted(m["X-Portal-Template"] for m in to_account) == [
            "order_cancelled",
            "order_message",
            "order_partially_shipped",
            "order_shipped",
        ]
        assert {m["Content-Language"] for m in to_account} == {"pl"}
        subjects = {m["X-Portal-Template"]: m["Subject"] for m in to_account}
        assert subjects["order_partially_shipped"] == "Część Twojego zamówienia ORD-2026-0042 została wysłana"
        assert "Zapłacona kwota zostanie zaksięgowana na Twoim koncie." in (
            next(m for m in to_account if m["X-Portal-Template"] == "order_cancelled")
            .get_body(("plain",))
            .get_content()
        )
        assert (to_desk["X-Portal-Template"], to_desk["Content-Language"]) == ("order_message", "de")
        assert (
            to_desk["Subject"].strip() == f"Neue Nachricht des Kunden {acct} zur Bestellung ORD-2026-0042"
        )  # folded after "Subject:"
        desk_text = to_desk.get_body(("plain",)).get_content()
        assert f"Ayla Yılmaz vom Kundenkonto {acct} schreibt" in desk_text
        assert f"http://127.0.0.1:3000/orders/{ORDER}" in desk_text

        customer = bearer(acct, "customer", user="ayla")
        theirs = (await http.get("/v1/deliveries", headers=customer, params={"limit": 50})).json()["items"]
        assert "business" not in {d["audience"] for d in theirs} and len(theirs) == 5  # and the confirmation
        everything = (await http.get("/v1/deliveries", headers=ADMIN, params={"account_id": acct})).json()["items"]
        assert sorted(d["audience"] for d in everything).count("business") == 1 and len(everything) == 6
