"""Issue 3's proof, over HTTP against the running catalog, orders, billing and notify on real
Kafka, PostgreSQL and the SMTP sink: a seller's request for additional services from submission
to activation (and, in a second run, to rejection), with an email at every step in the
seller's language, the first being the confirmation of its address (notify mails nothing else to
it before the seller posts the token back); and the same flow with every event delivered twice."""

from __future__ import annotations

from flow import ADMIN, CONFIRMATION, approved_and_paid_in_two_parts, draft_with, offer, ok, running_portal, seller

from portal_runtime.testing import eventually

HAPPY_TEMPLATES = [
    CONFIRMATION,
    "request_received",
    "information_requested",
    "invoice_issued",
    "payment_received",
    "payment_received",
    "services_active",
]


def templates(mails):
    return [m["headers"]["X-Portal-Template"] for m in mails]


async def test_request_asked_answered_approved_paid_in_two_transfers_and_activated(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka) as portal:
        done = await approved_and_paid_in_two_parts(portal, language="tr")
        mails = await portal.emails(done.email, 7)
        # the confirmation, then one email per step, in Turkish; the last two (payment settled /
        # services active) come from two services and may arrive in either order
        assert templates(mails)[:5] == HAPPY_TEMPLATES[:5]
        assert sorted(templates(mails)) == sorted(HAPPY_TEMPLATES)
        assert {m["headers"]["Content-Language"] for m in mails} == {"tr"}
        assert all(m["text"] and m["html"] for m in mails)
        by_template = {}
        for m in mails:
            by_template.setdefault(m["headers"]["X-Portal-Template"], []).append(m)
        assert by_template[CONFIRMATION][0]["subject"] == "Lütfen e-posta adresinizi onaylayın"
        assert by_template["request_received"][0]["subject"] == "Talebinizi aldık"
        assert by_template["information_requested"][0]["subject"] == "Talebiniz için ek bilgiye ihtiyacımız var"
        number = done.invoice["number"]
        assert by_template["invoice_issued"][0]["subject"] == f"Talebiniz onaylandı – {number} numaralı fatura"
        invoice_mail = by_template["invoice_issued"][0]["text"]
        assert "199,90" in invoice_mail  # the total, in Turkish number format
        [transfer] = [i for i in done.invoice["payment_instructions"] if i["method"] == "bank_transfer"]
        iban = transfer["details"]["iban"]
        assert iban in invoice_mail, invoice_mail  # the payment instructions are in the email
        partial, settled = sorted(by_template["payment_received"], key=lambda m: m["received_at"])
        assert "120,00" in partial["text"] and "79,90" in partial["text"], partial["text"]
        assert "79,90" in settled["text"], settled["text"]
        assert by_template["services_active"][0]["subject"] == "Hizmetleriniz aktif"
        assert "Premium listing" in by_template["services_active"][0]["text"]

        # The request's history: who did what, readable by its owner and by an admin.
        rid = done.request["id"]
        history = ok(await portal.http["orders"].get(f"/v1/requests/{rid}/history", headers=done.headers))["items"]
        assert [(h["from_status"], h["to_status"]) for h in history] == [
            (None, "draft"),
            ("draft", "submitted"),
            ("submitted", "information_requested"),
            ("information_requested", "submitted"),
            ("submitted", "approved"),
            ("approved", "active"),
        ]
        # `by` is the user within its account (the seller's token names user "customer", the admin's "admin").
        me = f"{done.account}/customer"
        assert [h["by"] for h in history] == [me, me, "ops/admin", me, "ops/admin", "billing"]
        assert ok(await portal.http["orders"].get(f"/v1/requests/{rid}/history", headers=ADMIN))["items"] == history

        # Another seller sees none of it.
        _, _, other = await seller(portal, "en")
        assert (await portal.http["orders"].get(f"/v1/requests/{rid}", headers=other)).status_code == 404
        assert (await portal.http["orders"].get(f"/v1/requests/{rid}/history", headers=other)).status_code == 404
        invoice_url = f"/v1/invoices/{done.invoice['id']}"
        assert (await portal.http["billing"].get(invoice_url, headers=other)).status_code == 404
        assert ok(await portal.http["orders"].get("/v1/subscriptions", headers=other))["items"] == []


async def test_a_rejected_request_is_emailed_with_the_reason_and_never_billed(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka) as portal:
        item = await offer(portal, "Marketplace ads", "250.00", billing="recurring", billing_period_months=12)
        account, email, headers = await seller(portal, "pl")
        draft = await draft_with(portal, headers, [{"item_id": item["id"], "quantity": 1}])
        rid = draft["id"]
        orders = portal.http["orders"]
        ok(await orders.post(f"/v1/requests/{rid}/submit", headers=headers))
        reason = "Reklamy nie są dostępne dla kont młodszych niż 30 dni."
        rejected = ok(await orders.post(f"/v1/admin/requests/{rid}/reject", headers=ADMIN, json={"reason": reason}))
        assert rejected["status"] == "rejected"

        mails = await portal.emails(email, 3)
        assert templates(mails) == [CONFIRMATION, "request_received", "request_rejected"]
        assert {m["headers"]["Content-Language"] for m in mails} == {"pl"}
        assert mails[2]["subject"] == "Twoje zgłoszenie zostało odrzucone"
        assert reason in mails[2]["text"] and reason in mails[2]["html"]

        # A rejected request cannot be approved, asked about or edited: 409 with its status.
        for method, path, body in [
            ("POST", f"/v1/admin/requests/{rid}/approve", None),
            ("POST", f"/v1/admin/requests/{rid}/ask", {"question": "Still interested?"}),
            ("POST", f"/v1/admin/requests/{rid}/reject", {"reason": "again"}),
        ]:
            r = await orders.request(method, path, headers=ADMIN, json=body)
            assert r.status_code == 409 and r.json()["current_status"] == "rejected", (path, r.text)
        r = await orders.post(f"/v1/requests/{rid}/answer", headers=headers, json={"answer": "please"})
        assert r.status_code == 409 and r.json()["current_status"] == "rejected", r.text
        after = ok(await orders.get(f"/v1/requests/{rid}", headers=headers))
        assert after["status"] == "rejected" and after["updated_at"] == rejected["updated_at"]
        history = ok(await orders.get(f"/v1/requests/{rid}/history", headers=headers))["items"]
        assert history[-1]["to_status"] == "rejected" and history[-1]["note"] == reason and len(history) == 3

        # Nothing is billed or activated, and no further email goes out.
        await eventually(portal.settled, what="every event applied and every email sent")
        assert ok(await portal.http["billing"].get("/v1/invoices", headers=headers))["items"] == []
        assert ok(await orders.get("/v1/subscriptions", headers=headers))["items"] == []
        assert len(await infra.messages(to=email)) == 3


async def test_every_event_of_the_flow_delivered_twice_has_its_effect_once(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, deliver_twice=True) as portal:
        done = await approved_and_paid_in_two_parts(portal, language="de")

        # Wait until every consumer has been handed every event of the flow twice.
        async def all_handed_twice():
            events = await portal.flow_events(done.account, {i["id"] for i in done.items.values()})
            short = [
                (service, e["type"], portal.handed[(service, e["id"])])
                for e in events
                for service in portal.consumers_of(e)
                if portal.handed[(service, e["id"])] < 2
            ]
            return (events, short) if not short else None

        events, _ = await eventually(
            all_handed_twice, what="every event to be handed to its consumers twice", timeout=60
        )
        types = [e["type"] for e in events]
        for expected in (
            "CatalogItemPublished",
            "AccountProfileChanged",
            "RequestSubmitted",
            "InformationRequested",
            "InformationProvided",
            "RequestApproved",
            "InvoiceIssued",
            "PaymentReceived",
            "PaymentConfirmed",
            "ServicesActivated",
            "EmailSent",
        ):
            assert expected in types, f"{expected} not published in the flow: {types}"
        stats = {name: rt.consumer.stats for name, rt in portal.runtimes.items()}
        # the second copies were recognised as such (inbox), and none was refused to the DLQ
        assert all(stats[name]["duplicates"] > 0 for name in ("orders", "billing", "notify")), stats
        assert all(s["dead_lettered"] == 0 for s in stats.values()), stats

        # One invoice, paid once by two transfers.
        invoices = ok(await portal.http["billing"].get("/v1/invoices", headers=done.headers))["items"]
        assert len(invoices) == 1 and invoices[0]["status"] == "paid"
        # one invoice issued: once as v1 (what existing readers take) and once as v2 (sources, line ids)
        issued = [e["dataversion"] for e in events if e["type"] == "InvoiceIssued"]
        assert issued == [1, 2] and types.count("PaymentConfirmed") == 1, issued
        assert types.count("PaymentReceived") == 2
        # One activation: two subscriptions (one per requested service), one ServicesActivated.
        subs = ok(await portal.http["orders"].get("/v1/subscriptions", headers=done.headers))["items"]
        assert sorted(s["name"] for s in subs) == ["Premium listing", "Store setup"]
        assert types.count("ServicesActivated") == 1
        history = ok(
            await portal.http["orders"].get(f"/v1/requests/{done.request['id']}/history", headers=done.headers)
        )["items"]
        assert [h["to_status"] for h in history].count("active") == 1

        # One email per event: seven deliveries (the profile's one confirmation, though its event came
        # twice, and six for the request), seven sent, seven at the SMTP sink.
        async def all_sent():
            page = ok(
                await portal.http["notify"].get("/v1/deliveries", headers=ADMIN, params={"account_id": done.account})
            )
            return page if all(d["status"] == "sent" for d in page["items"]) else None

        deliveries = (await eventually(all_sent, what="every delivery to be sent"))["items"]
        assert sorted(d["template"] for d in deliveries) == sorted(HAPPY_TEMPLATES)
        assert len({d["cause_event_id"] for d in deliveries}) == 7
        await eventually(portal.settled, what="the system to settle (a doubled email would be out by then)")
        mails = await infra.messages(to=done.email)
        assert sorted(templates(mails)) == sorted(HAPPY_TEMPLATES)
        assert {m["headers"]["Content-Language"] for m in mails} == {"de"}
