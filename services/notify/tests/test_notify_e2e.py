"""notify on the real Kafka, PostgreSQL and a real SMTP server (aiosmtpd): events in, emails out,
in the recipient's language, once each, never lost when the mail server is away, and never to an
address nobody confirmed (a new address gets only its confirmation until its token comes back);
an automatic unit plan's notices to the account and to its billing contact, once each."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from notify_samples import (
    AT,
    first_part_paid,
    information_requested,
    invoice_issued,
    payment_confirmed,
    profile,
    rejected,
    renewal_invoice,
    rest_paid,
    service_reactivated,
    service_suspended,
    submitted,
    units_plan_paused,
    units_top_up_failed,
)
from sqlalchemy import text

from notify.bootstrap import definition
from notify.settings import NotifySettings
from portal_contracts import Envelope, lookup
from portal_contracts.events.billing import BillingContact, BillTo
from portal_runtime.testing import bearer, eventually, read_topic, running_service

ADMIN = bearer("ops", "admin")


def settings(port: int) -> NotifySettings:
    return NotifySettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout_seconds=5,
        send_max_attempts=3,
        send_backoff_seconds=0.05,
        send_backoff_max_seconds=0.2,
        send_poll_seconds=0.05,
    )


def envelope(event) -> Envelope:
    return Envelope.wrap(event, producer="test", occurred_at=datetime.now(UTC))


async def produce(kafka: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        for env in envelopes:
            topic = lookup(env.type, env.version).topic
            await producer.send_and_wait(topic, env.model_dump_json().encode(), key=env.key.encode())
    finally:
        await producer.stop()


def about(delivery_id: str, event_type: str):
    def match(record) -> bool:
        body = json.loads(record.value)
        return body["type"] == event_type and body["data"]["delivery_id"] == delivery_id

    return match


def account() -> tuple[str, str]:
    name = f"acct-{uuid.uuid4().hex[:10]}"
    return name, f"{name}@customers.test"


CONFIRMATION = "email_confirmation"


def caused_by_events(smtp, address: str):
    """The emails to `address` other than its confirmation."""
    return [m for m in smtp.mail.to(address) if m["X-Portal-Template"] != CONFIRMATION]


def token_in(message) -> str:
    """The token, as the reader of the confirmation email finds it (in the link and as the code)."""
    [token] = set(re.findall(r"token=([A-Za-z0-9_-]+)", message.get_body(("plain",)).get_content()))
    return token


async def confirmation_to(smtp, address: str, n: int = 1):
    def arrived():
        found = [m for m in smtp.mail.to(address) if m["X-Portal-Template"] == CONFIRMATION]
        return found if len(found) >= n else None

    return (await eventually(arrived, what=f"the confirmation email to {address}"))[n - 1]


async def confirmed(kafka, http, smtp, acct: str, address: str, language: str, at: datetime = AT) -> None:
    """The account's profile arrives and the reader of its address confirms it: what every account
    does before its emails go anywhere."""
    await produce(kafka, envelope(profile(acct, address, language, at)))
    token = token_in(await confirmation_to(smtp, address))
    answer = await http.post("/v1/email-confirmations", json={"token": token})
    assert answer.status_code == 200 and answer.json()["email"] == address, answer.text


async def status_of(http, delivery_id: str, headers=ADMIN) -> str:
    return (await http.get(f"/v1/deliveries/{delivery_id}", headers=headers)).json()["status"]


async def test_email_arrives_in_the_recipients_language_with_text_and_html(new_database, kafka, smtp):
    acct, address = account()
    async with running_service(
        definition(settings(smtp.port)), database_url=await new_database("notify"), kafka=kafka
    ) as (_, http):
        await confirmed(kafka, http, smtp, acct, address, "de")
        await produce(kafka, envelope(submitted(acct)))
        [message] = await eventually(lambda: caused_by_events(smtp, address), what="the email to arrive")
        assert message["Subject"] == "Wir haben Ihre Anfrage erhalten"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert text.startswith("Guten Tag,") and "Gesamtbetrag: 1.333,80\u00a0€" in text
        assert '<html lang="de">' in html and "SEO &lt;boost&gt;" in html

        mine = bearer(acct)
        page = (await http.get("/v1/deliveries", headers=mine)).json()
        assert page["total"] == 2 and page["items"][1]["template"] == CONFIRMATION
        delivery = page["items"][0]
        assert (delivery["template"], delivery["language"], delivery["recipient"]) == (
            "request_received",
            "de",
            address,
        )
        assert message["Message-ID"] == f"<{delivery['id']}@portal.invalid>"
        await eventually(lambda: _is(http, delivery["id"], "sent", mine), what="the delivery to be marked sent")
        detail = (await http.get(f"/v1/deliveries/{delivery['id']}", headers=mine)).json()
        assert detail["attempts"] == 1 and "Gesamtbetrag" in detail["text"]
        assert detail["html"].startswith('<!DOCTYPE html>\n<html lang="de">')

        stranger = bearer("someone-else")
        assert (await http.get(f"/v1/deliveries/{delivery['id']}", headers=stranger)).status_code == 404
        assert (await http.get("/v1/deliveries", headers=stranger)).json()["total"] == 0
        assert (await http.get(f"/v1/deliveries?account_id={acct}", headers=stranger)).json()["total"] == 0
        admin_view = (await http.get(f"/v1/deliveries?account_id={acct}&status=sent", headers=ADMIN)).json()
        assert [d["id"] for d in admin_view["items"]] == [delivery["id"], page["items"][1]["id"]]
        assert (await http.get("/v1/deliveries?status=bogus", headers=ADMIN)).status_code == 400
    sent = await read_topic(kafka, "notify.deliveries", about(delivery["id"], "EmailSent"), want=1)
    assert len(sent) == 1


async def _is(http, delivery_id: str, status: str, headers=ADMIN) -> bool:
    return await status_of(http, delivery_id, headers) == status


async def test_the_same_event_twice_sends_one_email(new_database, kafka, smtp):
    acct, address = account()
    twice = envelope(submitted(acct))
    marker = envelope(rejected(acct))  # same request key: same partition, after the duplicate
    async with running_service(
        definition(settings(smtp.port)), database_url=await new_database("notify"), kafka=kafka
    ) as (rt, http):
        await confirmed(kafka, http, smtp, acct, address, "tr")
        await produce(kafka, twice, twice, marker)
        await eventually(
            lambda: [m for m in smtp.mail.to(address) if m["Subject"] == "Talebiniz reddedildi"],
            what="the email after the duplicate",
        )
        assert rt.consumer.stats["duplicates"] >= 1
        subjects = sorted(m["Subject"] for m in smtp.mail.to(address))
        assert subjects == ["Lütfen e-posta adresinizi onaylayın", "Talebiniz reddedildi", "Talebinizi aldık"]
        page = (await http.get(f"/v1/deliveries?account_id={acct}", headers=ADMIN)).json()
        assert page["total"] == 3
        caused = {d["cause_event_id"] for d in page["items"] if d["template"] != CONFIRMATION}
        assert caused == {str(twice.event_id), str(marker.event_id)}


async def test_a_service_event_delivered_twice_sends_one_email_in_the_accounts_language(new_database, kafka, smtp):
    """ServiceSuspended comes twice (a redelivery: the same event id); ServiceReactivated, on the same
    key, comes after it, so once its email is out the duplicate has been consumed."""
    acct, address = account()
    twice = envelope(service_suspended(acct))
    marker = envelope(service_reactivated(acct))
    async with running_service(
        definition(settings(smtp.port)), database_url=await new_database("notify"), kafka=kafka
    ) as (rt, http):
        await confirmed(kafka, http, smtp, acct, address, "pl")
        await produce(kafka, twice, twice, marker)
        reactivated = "Twoja usługa Web Hosting <Pro> (example.com) jest znowu aktywna"
        await eventually(
            lambda: [m for m in smtp.mail.to(address) if m["Subject"] == reactivated],
            what="the email after the duplicate",
        )
        assert rt.consumer.stats["duplicates"] >= 1
        [suspended, again] = caused_by_events(smtp, address)
        assert (suspended["X-Portal-Template"], again["X-Portal-Template"]) == (
            "service_suspended",
            "service_reactivated",
        )
        assert suspended["Subject"] == "Twoja usługa Web Hosting <Pro> (example.com) została zawieszona"
        text = suspended.get_body(("plain",)).get_content()
        assert text.startswith("Dzień dobry,") and "Dodatki: Advanced SSL i Backup" in text
        page = (await http.get(f"/v1/deliveries?account_id={acct}", headers=ADMIN)).json()
        caused = {d["cause_event_id"] for d in page["items"] if d["template"] != CONFIRMATION}
        assert page["total"] == 3 and caused == {str(twice.event_id), str(marker.event_id)}


async def test_smtp_down_fails_with_email_failed_and_an_admin_retry_sends_it(new_database, kafka, smtp_down):
    """The mail server is away when a new account's confirmation is due: it fails (EmailFailed),
    the account's first email awaits the confirmation meanwhile; an admin's retry sends the
    confirmation, still with a token that works, and its confirmation sends the waiting email."""
    acct, address = account()
    async with running_service(
        definition(settings(smtp_down.port)), database_url=await new_database("notify"), kafka=kafka
    ) as (_, http):
        await produce(kafka, envelope(profile(acct, address, "pl")), envelope(submitted(acct)))

        async def failed():
            page = (await http.get(f"/v1/deliveries?account_id={acct}&status=failed", headers=ADMIN)).json()
            return page["items"]

        [delivery] = await eventually(failed, what="the delivery to fail")
        assert delivery["template"] == CONFIRMATION and delivery["recipient"] == address
        assert delivery["attempts"] == 3 and delivery["last_error"] and delivery["failed_at"]
        assert address not in delivery["last_error"]
        [event] = await read_topic(kafka, "notify.deliveries", about(delivery["id"], "EmailFailed"), want=1)
        data = json.loads(event.value)["data"]
        assert data["attempts"] == 3 and data["template"] == CONFIRMATION and address not in event.value.decode()

        async def awaiting():
            page = (await http.get("/v1/deliveries?status=awaiting_confirmation", headers=bearer(acct))).json()
            return [d["template"] for d in page["items"]]

        assert await eventually(awaiting, what="the first email to await the confirmation") == ["request_received"]

        await smtp_down.start()  # the mail server is back
        assert (
            await http.post(f"/v1/admin/deliveries/{delivery['id']}/retry", headers=bearer(acct))
        ).status_code == 403
        assert (await http.post(f"/v1/admin/deliveries/{uuid.uuid4()}/retry", headers=ADMIN)).status_code == 404
        retried = await http.post(f"/v1/admin/deliveries/{delivery['id']}/retry", headers=ADMIN)
        assert retried.status_code == 200 and retried.json()["status"] in ("pending", "sent")
        message = await confirmation_to(smtp_down, address)
        assert message["Subject"] == "Potwierdź swój adres e-mail"
        await eventually(lambda: _is(http, delivery["id"], "sent"), what="the delivery to be marked sent")
        again = await http.post(f"/v1/admin/deliveries/{delivery['id']}/retry", headers=ADMIN)
        assert again.status_code == 409 and again.json()["current_status"] == "sent"

        assert (await http.post("/v1/email-confirmations", json={"token": token_in(message)})).status_code == 200
        [received] = await eventually(lambda: caused_by_events(smtp_down, address), what="the email that waited")
        assert received["Subject"] == "Otrzymaliśmy Twoje zgłoszenie"
    assert len(await read_topic(kafka, "notify.deliveries", about(delivery["id"], "EmailSent"), want=1)) == 1


async def test_a_payment_in_two_parts_sends_two_payment_emails_and_none_for_payment_confirmed(
    new_database, kafka, smtp
):
    acct, address = account()
    invoice = uuid.uuid4()
    first, rest = envelope(first_part_paid(acct, invoice)), envelope(rest_paid(acct, invoice))
    paid = envelope(payment_confirmed(acct, invoice))
    marker = envelope(invoice_issued(acct, invoice))  # same invoice key: same partition, after PaymentConfirmed
    async with running_service(
        definition(settings(smtp.port)), database_url=await new_database("notify"), kafka=kafka
    ) as (_, http):
        await confirmed(kafka, http, smtp, acct, address, "de")
        await produce(kafka, first, rest, paid, marker)
        await eventually(
            lambda: [m for m in smtp.mail.to(address) if m["Subject"].startswith("Ihre Anfrage")],
            what="the email after PaymentConfirmed",
        )
        page = (await http.get(f"/v1/deliveries?account_id={acct}", headers=ADMIN)).json()
        assert page["total"] == 4
        assert {d["cause_event_id"] for d in page["items"] if d["template"] != CONFIRMATION} == {
            str(first.event_id),
            str(rest.event_id),
            str(marker.event_id),
        }
        payments = [m for m in smtp.mail.to(address) if m["Subject"] == "Zahlung für Rechnung INV-2026-0042 erhalten"]
        assert len(payments) == 2
        texts = [m.get_body(("plain",)).get_content() for m in payments]
        htmls = [m.get_body(("html",)).get_content() for m in payments]
        [partial] = [i for i, t in enumerate(texts) if "Noch offener Betrag: 734,80\u00a0€" in t]
        assert "Erhaltener Betrag: 500,00\u00a0€" in texts[partial] and "Zahlungsart: Banküberweisung" in texts[partial]
        assert "<strong>Noch offener Betrag:</strong> 734,80\u00a0€" in htmls[partial]
        settled = 1 - partial
        assert "Erhaltener Betrag: 734,80\u00a0€" in texts[settled]
        assert "Die Rechnung ist damit vollständig bezahlt." in texts[settled]
        assert "vollständig bezahlt" in htmls[settled] and "offener Betrag" not in htmls[settled]


async def test_a_new_address_gets_only_its_confirmation_until_its_token_comes_back(new_database, kafka, smtp):
    """A customer points its profile at another address: that address gets one confirmation (a
    redelivered profile event sends no second one); a submit meanwhile goes to the address
    confirmed before; the token, posted without a bearer token, makes the new address the one
    later emails go to; a second post answers alike."""
    acct, old = account()
    new = f"new-{old}"
    async with running_service(
        definition(settings(smtp.port)), database_url=await new_database("notify"), kafka=kafka
    ) as (rt, http):
        await confirmed(kafka, http, smtp, acct, old, "en")
        change = envelope(profile(acct, new, "en", at=AT + timedelta(hours=1)))
        await produce(kafka, change, change)  # redelivered
        message = await confirmation_to(smtp, new)
        assert message["Subject"] == "Please confirm your email address"
        token = token_in(message)
        html = message.get_body(("html",)).get_content()
        assert f'href="https://portal.invalid/account/confirm-email?token={token}"' in html
        await eventually(lambda: rt.consumer.stats["duplicates"] >= 1, what="the redelivered profile change")

        await produce(kafka, envelope(submitted(acct)))
        [meanwhile] = await eventually(lambda: caused_by_events(smtp, old), what="the email sent meanwhile")
        assert meanwhile["Subject"] == "We received your request"
        mine = bearer(acct)
        listed = (await http.get("/v1/deliveries", headers=mine)).json()["items"]
        [asked] = [d for d in listed if d["template"] == CONFIRMATION and d["recipient"] == new]
        detail = (await http.get(f"/v1/deliveries/{asked['id']}", headers=mine)).json()
        assert token not in json.dumps(detail), "the deliveries API never shows the token"
        assert "[token withheld]" in detail["text"]

        unknown = await http.post("/v1/email-confirmations", json={"token": "x" * 43})
        assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
        junk = await http.post("/v1/email-confirmations", json={"token": "not a token"})
        assert junk.status_code == 400, junk.text
        first = await http.post("/v1/email-confirmations", json={"token": token})
        again = await http.post("/v1/email-confirmations", json={"token": token}, headers=bearer("someone-else"))
        assert first.status_code == again.status_code == 200, (first.text, again.text)
        assert first.json() == again.json() and first.json()["email"] == new

        await produce(kafka, envelope(information_requested(acct)))
        [later] = await eventually(lambda: caused_by_events(smtp, new), what="the email after the confirmation")
        assert later["Subject"] == "We need more information about your request"
        assert [m["X-Portal-Template"] for m in smtp.mail.to(new)] == [CONFIRMATION, "information_requested"]
        assert [m["X-Portal-Template"] for m in smtp.mail.to(old)] == [CONFIRMATION, "request_received"]


async def test_a_new_accounts_emails_await_its_confirmation_and_go_out_once(new_database, kafka, smtp):
    acct, address = account()
    async with running_service(
        definition(settings(smtp.port)), database_url=await new_database("notify"), kafka=kafka
    ) as (_, http):
        await produce(kafka, envelope(profile(acct, address, "de")), envelope(submitted(acct)))
        message = await confirmation_to(smtp, address)

        async def awaiting():
            page = (await http.get("/v1/deliveries?status=awaiting_confirmation", headers=bearer(acct))).json()
            return page["items"]

        [held] = await eventually(awaiting, what="the email to await the confirmation")
        assert (held["template"], held["recipient"]) == ("request_received", None)
        assert caused_by_events(smtp, address) == []

        assert (await http.post("/v1/email-confirmations", json={"token": token_in(message)})).status_code == 200
        await eventually(lambda: _is(http, held["id"], "sent"), what="the email that waited to be sent")
        assert (await http.post("/v1/email-confirmations", json={"token": token_in(message)})).status_code == 200
        await produce(kafka, envelope(rejected(acct)))  # same request key: after everything before it
        await eventually(lambda: len(caused_by_events(smtp, address)) == 2, what="the email after the confirmation")
        assert [m["Subject"] for m in caused_by_events(smtp, address)] == [
            "Wir haben Ihre Anfrage erhalten",
            "Ihre Anfrage wurde abgelehnt",
        ], "the email that waited went out once"


async def test_a_declined_top_up_mails_the_account_and_its_billing_contact_once_each_in_the_businesss_time(
    new_database, kafka, smtp
):
    """The plan's purchase is invoiced (InvoiceIssued v1 and v2, addressed to the billing contact:
    no invoice email, the receipt would be it), its charge is declined (UnitsTopUpFailed, delivered
    twice) and the plan pauses (UnitsPlanPaused, on the same key: after the duplicate). The account
    and the contact get each notice once, in the account's language, the next attempt in the
    business's time zone (Berlin)."""
    acct, address = account()
    contact = BillingContact(name="Berta <Billing>", email=f"billing-{address}")
    invoice = renewal_invoice(acct, source_kind="unit_top_up").model_copy(
        update={
            "bill_to": BillTo(
                name=contact.name,
                email=contact.email,
                line1="Main St 1",
                postal_code="10115",
                city="Berlin",
                country="DE",
            )
        }
    )
    issued = invoice_issued(acct, invoice.invoice_id).model_copy(update={"request_id": None, "number": invoice.number})
    declined = envelope(units_top_up_failed(acct).model_copy(update={"billing_contact": contact}))
    paused = envelope(units_plan_paused(acct).model_copy(update={"billing_contact": contact}))
    async with running_service(
        definition(settings(smtp.port)),
        database_url=await new_database("notify"),
        kafka=kafka,
        business_timezone="Europe/Berlin",
    ) as (rt, http):
        await confirmed(kafka, http, smtp, acct, address, "de")
        await produce(kafka, envelope(issued), envelope(invoice), declined, declined, paused)

        def both_told_of_the_pause():
            told = [m for _, m in smtp.mail.received if m["X-Portal-Template"] == "units_plan_paused"]
            return told if len(told) == 2 else None

        await eventually(both_told_of_the_pause, what="the plan paused email to the account and its contact")
        # the profile, both invoice versions, the decline and the pause applied; the decline's copy a duplicate
        await eventually(
            lambda: (rt.consumer.stats["applied"], rt.consumer.stats["duplicates"]) == (5, 1),
            what="every event applied and the redelivered decline found a duplicate",
        )
        mine = [m["X-Portal-Template"] for m in caused_by_events(smtp, address)]
        theirs = smtp.mail.to(contact.email)
        assert mine == ["units_top_up_failed", "units_plan_paused"], "no invoice email, each notice once"
        assert [m["X-Portal-Template"] for m in theirs] == mine
        assert [m["Subject"] for m in theirs] == [
            "Ihre automatische Aufladung wurde abgelehnt",
            "Ihr automatischer Aufladeplan ist pausiert",
        ]
        text = theirs[0].get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert text.startswith("Guten Tag Berta <Billing>,\n")
        assert "Wir versuchen es am 10. Januar 2026, 11:30 (Mitteleuropäische Normalzeit) erneut." in text
        assert "als Rechnungskontakt angegeben sind" in text and acct in text
        assert "Guten Tag Berta &lt;Billing&gt;," in theirs[0].get_body(("html",)).get_content()

        page = (await http.get("/v1/deliveries", headers=bearer(acct))).json()
        told = sorted(
            (d["template"], d["audience"], d["recipient"]) for d in page["items"] if d["template"] != CONFIRMATION
        )
        assert told == [
            ("units_plan_paused", "account", address),
            ("units_plan_paused", "billing_contact", contact.email),
            ("units_top_up_failed", "account", address),
            ("units_top_up_failed", "billing_contact", contact.email),
        ]
        assert {d["cause_event_id"] for d in page["items"] if d["template"] == "units_top_up_failed"} == {
            str(declined.event_id)
        }


async def test_the_sender_wakes_when_a_delivery_is_committed_not_at_its_next_poll(new_database, kafka, smtp):
    """With a poll of ten minutes, the confirmation email and the email of the next event both go
    at once: the trigger on `deliveries` notifies the sender when the consumer's transaction that
    staged them commits. The sender listens again after its listening connection is cut (its
    backend terminated), so the email after that goes at once too."""
    acct, address = account()
    slow = settings(smtp.port).model_copy(update={"send_poll_seconds": 600})
    async with running_service(definition(slow), database_url=await new_database("notify"), kafka=kafka) as (rt, http):
        await confirmed(kafka, http, smtp, acct, address, "en")  # waits for the confirmation email (30 s)
        await produce(kafka, envelope(submitted(acct)))
        await eventually(lambda: caused_by_events(smtp, address), what="the request's email, before any poll")
        async with rt.sessions() as s:  # the sender's listening connection: the one that ran LISTEN
            [cut] = (
                (
                    await s.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND query LIKE 'LISTEN%notify_deliveries%'"
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert cut, "the sender's listening connection was found and cut"
        await produce(kafka, envelope(rejected(acct)))
        await eventually(
            lambda: len(caused_by_events(smtp, address)) == 2, what="the next email after the listener was cut"
        )
