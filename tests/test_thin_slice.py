"""The thin slice across all services, on real Kafka, PostgreSQL and SMTP: catalog publishes an
item; orders accepts a request naming it; billing and notify react; the emails arrive at the
SMTP sink."""

from __future__ import annotations

import contextlib
import os
import uuid

from billing.bootstrap import definition as billing_definition
from catalog.bootstrap import definition as catalog_definition
from notify.bootstrap import definition as notify_definition
from orders.bootstrap import definition as orders_definition
from portal_runtime.testing import bearer, eventually, running_service

ADMIN = bearer("ops", "admin")


async def test_item_request_invoice_and_emails_across_services(infra, new_database, kafka, monkeypatch):
    monkeypatch.setenv("SMTP_HOST", infra.smtp_host)
    monkeypatch.setenv("SMTP_PORT", str(infra.smtp_port))
    account = f"acme-{uuid.uuid4().hex[:6]}"
    email = f"{account}@example.test"
    customer = bearer(account)
    async with contextlib.AsyncExitStack() as stack:
        http = {}
        for d in (catalog_definition(), orders_definition(), billing_definition(), notify_definition()):
            _, http[d.name] = await stack.enter_async_context(
                running_service(d, database_url=await new_database(d.name), kafka=kafka))

        item = await http["catalog"].post("/v1/items", headers=ADMIN, json={
            "sku": f"SEO-{account}", "name": "SEO boost", "price": "49.90", "currency": "EUR",
            "billing": "recurring", "billing_period_months": 1})
        assert item.status_code == 201, item.text
        item_id = item.json()["id"]

        profile = await http["orders"].put("/v1/account/profile", headers=customer,
                                           json={"email": email, "language": "de"})
        assert profile.status_code in (200, 201), profile.text

        async def draft():
            r = await http["orders"].post("/v1/requests", headers=customer,
                                          json={"lines": [{"item_id": item_id, "quantity": 2}]})
            return r.json() if r.status_code == 201 else None

        request = await eventually(draft, what="orders to know the catalog item")
        assert request["total"] == {"amount": "99.80", "currency": "EUR"} or str(request["total"]).find("99.80") >= 0
        submitted = await http["orders"].post(f"/v1/requests/{request['id']}/submit", headers=customer)
        assert submitted.status_code == 200, submitted.text

        async def mails(n):
            found = await infra.messages(to=email)
            return found if len(found) >= n else None

        first = await eventually(lambda: mails(1), what="the 'request received' email", timeout=60)
        assert len(first) == 1

        approved = await http["orders"].post(f"/v1/admin/requests/{request['id']}/approve", headers=ADMIN)
        assert approved.status_code == 200, approved.text

        async def invoices():
            r = await http["billing"].get("/v1/invoices", headers=customer)
            body = r.json()
            items = body["items"] if isinstance(body, dict) else body
            return items or None

        invoice = (await eventually(invoices, what="billing to issue the invoice"))[0]
        assert "99.80" in str(invoice)
        both = await eventually(lambda: mails(2), what="the invoice email", timeout=60)
        assert len(both) == 2
        assert any(invoice["number"] in (m["text"] or "") for m in both), [m["subject"] for m in both]
        # another account sees neither the request nor the invoice
        other = bearer("someone-else")
        assert (await http["orders"].get(f"/v1/requests/{request['id']}", headers=other)).status_code == 404
        assert (await http["billing"].get(f"/v1/invoices/{invoice['id']}", headers=other)).status_code == 404
