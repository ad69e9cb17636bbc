"""The automatic plan over HTTP on a running billing (real PostgreSQL and Kafka, as bootstrap wires
it): the package comes from catalog's event, `PUT /v1/units/plan` at the threshold answers
`top_up.started` and the worker's charger charges it in the background (one charge in the
sandbox), `GET /v1/units` shows the plan, the card is shown by brand and last 4 only, refusals
name their field, `DELETE` turns it off, and the job `unit-top-ups` runs on demand."""

from __future__ import annotations

from datetime import UTC, datetime

from billing_testkit import produce
from plans_testkit import ADDRESS, CONTACT
from units_testkit import UNITS_1000, published

from billing.adapters.gateway import charges
from billing.bootstrap import definition
from billing.settings import BillingSettings
from portal_contracts import Envelope
from portal_runtime.testing import bearer, eventually, running_service

ACME = bearer("acme", user="alice")
ADMIN = bearer("ops", "admin")
CARD = {"number": "4242 4242 4242 4242", "expiry_month": 12, "expiry_year": 2030, "cvc": "123"}


def plan_body(**changes) -> dict:
    return {
        "package_item_id": str(UNITS_1000.item_id),
        "billing_address": ADDRESS,
        "billing_contact": CONTACT,
        "card": CARD,
        **changes,
    }


async def test_the_plan_over_http_tops_up_in_the_background(new_database, kafka):
    url = await new_database("billing")
    settings = BillingSettings(units_initial_grant=0, units_charge_poll_seconds=0.05)
    async with running_service(definition(settings=settings), database_url=url, kafka=kafka, relay=False) as (
        rt,
        http,
    ):
        env = Envelope.wrap(published(UNITS_1000), producer="catalog", occurred_at=datetime.now(UTC))
        await produce(kafka, env)
        preview = {"lines": [{"item_id": str(UNITS_1000.item_id), "quantity": 1}]}

        async def package_copied():
            answer = await http.post("/v1/units/purchases/preview", json=preview, headers=ACME)
            return answer.status_code == 200

        await eventually(package_copied, what="billing's copy of the package")

        # Refusals name their field; nothing is kept.
        for body, status, field in [
            ({**plan_body(), "card": None}, 422, "card"),
            (plan_body(package_item_id="00000000-0000-4000-8000-00000000dead"), 422, "package_item_id"),
            (plan_body(card={**CARD, "expiry_year": 2020}), 422, "card.expiry_year"),
            (plan_body(card={**CARD, "number": "4242 4242 4242 4241"}), 422, "card.number"),
            (plan_body(billing_address={**ADDRESS, "country": "de"}), 400, "billing_address.country"),
            (plan_body(billing_contact={**CONTACT, "email": "bea"}), 400, "billing_contact.email"),
            (plan_body(threshold=-5), 400, "threshold"),
        ]:
            refused = await http.put("/v1/units/plan", json=body, headers=ACME)
            assert refused.status_code == status, refused.text
            assert field in refused.text, refused.text
        assert (await http.get("/v1/units/plan", headers=ACME)).status_code == 404
        assert (await http.put("/v1/units/plan/card", json={"card": CARD}, headers=ACME)).status_code == 404

        # Turned on at the threshold (balance 0): a top-up at once, charged by the worker.
        put = await http.put("/v1/units/plan", json=plan_body(monthly_cap="300.00"), headers=ACME)
        assert put.status_code == 200, put.text
        plan = put.json()
        assert plan["status"] == "active" and plan["threshold"] == 0
        assert plan["top_up"]["started"] is True
        assert plan["top_up"]["reason"] == "the balance (0) is at or below the threshold (0)"
        assert plan["card"] == {"brand": "visa", "last4": "4242"}  # no token, no number
        assert (plan["monthly_cap"], plan["currency"], plan["package"]["sku"]) == ("300.00", "EUR", "UNITS-1000")
        purchase_id = plan["top_up"]["purchase_id"]

        async def completed():
            answer = await http.get(f"/v1/units/purchases/{purchase_id}", headers=ACME)
            return answer.json() if answer.json()["status"] == "completed" else None

        bought = await eventually(completed, what="the top-up charged by the worker")
        assert (bought["source"], bought["units"], bought["total"]) == ("plan", 1000, "49.00")
        [charged] = await charges(url)
        assert charged.idempotency_key == f"unit-purchase:{purchase_id}" and charged.method == "saved_card"
        invoice = (await http.get(f"/v1/invoices/{bought['invoice_id']}", headers=ACME)).json()
        assert invoice["status"] == "paid"

        units = (await http.get("/v1/units", headers=ACME)).json()
        assert units["balance"] == 1000
        assert units["plan"]["status"] == "active" and units["plan"]["top_up"] is None
        got = (await http.get("/v1/units/plan", headers=ACME)).json()
        assert got["billing_contact"] == CONTACT and got["billing_address"]["line1"] == "Main St 1"

        # Admins name the account; another customer sees none.
        assert (await http.get("/v1/units/plan", headers=ADMIN)).json()["field"] == "account_id"
        assert (await http.get("/v1/units/plan?account_id=acme", headers=ADMIN)).json()["account_id"] == "acme"
        assert (await http.get("/v1/units/plan", headers=bearer("globex"))).status_code == 404

        # The job is scheduled every 5 minutes and runs on demand (409: the scheduler ran it in this slot).
        jobs = (await http.get("/v1/admin/jobs", headers=ADMIN)).json()["items"]
        assert [j["schedule"] for j in jobs if j["name"] == "unit-top-ups"] == ["every 5 minutes"]
        ran = await http.post("/v1/admin/jobs/unit-top-ups/run", json={}, headers=ADMIN)
        assert ran.status_code in (200, 409), ran.text
        assert ran.json()["result"] == {"plans_due": 0, "top_ups_started": 0}  # 1,000 is above the threshold

        off = await http.delete("/v1/units/plan", headers=ACME)
        assert (off.status_code, off.json()["status"]) == (200, "off")
        assert (await http.get("/v1/units/plan", headers=ACME)).json()["status"] == "off"
        assert len(await charges(url)) == 1
