"""The additional-services flow, driven over HTTP against running services (catalog, orders,
billing, notify) on real Kafka, PostgreSQL and the SMTP sink. Shared by the end-to-end and the
redelivery tests."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from billing.bootstrap import definition as billing_definition
from catalog.bootstrap import definition as catalog_definition
from notify.adapters.tables import DeliveryRow
from notify.bootstrap import definition as notify_definition
from notify.settings import NotifySettings
from orders.bootstrap import definition as orders_definition
from portal_contracts import Envelope
from portal_contracts.base import Event
from portal_contracts.envelope import CONTENT_TYPE
from portal_runtime.db import InboxRecord, OutboxRecord
from portal_runtime.service import ServiceRuntime
from portal_runtime.testing import TEST_SECRET, bearer, eventually, running_service

ADMIN = bearer("ops", "admin")
EMAIL_TIMEOUT = 60


@dataclass
class Portal:
    """The running services, their HTTP clients, and what each consumer was handed."""

    infra: Any
    http: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    runtimes: dict[str, ServiceRuntime] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)
    # (service, event id) -> how many times the service's consumer was handed that event
    handed: collections.Counter = field(default_factory=collections.Counter)

    async def emails(self, to: str, n: int) -> list[dict[str, Any]]:
        """Wait until `to` has at least n emails at the SMTP sink; oldest first."""

        async def enough():
            found = await self.infra.messages(to=to)
            return found if len(found) >= n else None

        return await eventually(enough, what=f"{n} emails to {to}", timeout=EMAIL_TIMEOUT, interval=0.2)

    async def flow_events(self, account: str, item_ids: set[str]) -> list[dict[str, Any]]:
        """Every envelope any service published about `account` or these catalog items (from
        their outboxes)."""
        found = []
        for rt in self.runtimes.values():
            async with rt.sessions() as session:
                for row in await session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)):
                    data = row.envelope["data"]
                    if data.get("account_id") == account or data.get("item_id") in item_ids:
                        found.append(row.envelope)
        return found

    async def settled(self) -> bool:
        """Quiet: every event in any outbox is published and applied by every service that
        handles it (its inbox has it), and notify has no email left to send."""
        inboxes: dict[str, set] = {}
        for name, rt in self.runtimes.items():
            async with rt.sessions() as session:
                inboxes[name] = {str(i) for i in await session.scalars(select(InboxRecord.event_id))}
        for rt in self.runtimes.values():
            async with rt.sessions() as session:
                for row in await session.scalars(select(OutboxRecord)):
                    if row.published_at is None:
                        return False
                    if any(str(row.event_id) not in inboxes[c] for c in self.consumers_of(row.envelope)):
                        return False
        async with self.runtimes["notify"].sessions() as session:
            pending = await session.scalar(
                select(func.count()).select_from(DeliveryRow).where(DeliveryRow.status == "pending")
            )
        return pending == 0

    def consumers_of(self, envelope: dict[str, Any]) -> list[str]:
        return [
            name
            for name, rt in self.runtimes.items()
            if (envelope["type"], envelope["dataversion"]) in rt.consumer.handlers
        ]

    async def handed_twice(self, events: list[dict[str, Any]], timeout: float = 60) -> None:
        """Wait until each service that reads each of `events` was handed it at least twice (the
        second copy comes after the first: waiting for the flow's outcome is not waiting for it)."""

        def short() -> list[tuple[str, str]]:
            return [(n, e["type"]) for e in events for n in self.consumers_of(e) if self.handed[(n, e["id"])] < 2]

        await eventually(
            lambda: not short(), what="every event handed twice to each service that reads it", timeout=timeout
        )
        assert not short()


# With test_clock, the scheduler wakes an hour apart: jobs run when a test asks, as of its dates.
JOBS_ON_DEMAND = {"portal_test_clock": True, "job_poll_seconds": 3600}


async def skip_backlog(kafka: str, groups: Sequence[str], *, timeout: float = 8.0) -> None:
    """Best effort: move each consumer group's committed offsets to the end of every contract topic,
    so that a portal's consumers start with what comes after (its own events), not with what earlier
    test modules left on the topics for the same group names (another account "acme"'s quotes
    emailed to this portal's acme, or other billings' invoice numbers). A group that still has
    members (a portal stopped uncleanly a moment ago) refuses the commit until the broker drops
    them: after `timeout` seconds the group is left as it is (its consumers then read the backlog,
    as before)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from portal_contracts.registry import all_topics

    tps = [TopicPartition(topic, p) for topic, count in all_topics().items() for p in range(count)]

    async def commit_ends(group: str) -> None:
        while True:
            consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
            await consumer.start()
            try:
                consumer.assign(tps)
                ends = await consumer.end_offsets(tps)
                await consumer.commit(dict(ends))
                return
            except Exception:
                await asyncio.sleep(0.5)
            finally:
                await consumer.stop()

    for group in groups:
        with contextlib.suppress(Exception, TimeoutError):
            await asyncio.wait_for(commit_ends(group), timeout)


@contextlib.asynccontextmanager
async def running_portal(
    infra, new_database, kafka, *, deliver_twice: bool = False, test_clock: bool = False, second_orders: bool = False
) -> AsyncIterator[Portal]:
    """Start the four services of the flow. With deliver_twice, every event any of them
    publishes goes on its topic twice (the second copy right after the first, as after a relay
    that crashed before marking its batch). With test_clock, every service has its test clock
    (`PUT /v1/admin/clock`) and runs its jobs only on demand (the scheduler's first round, at
    the real time, is over before the portal is handed out). With second_orders, another orders
    process (HTTP only: api role) on orders' database answers at `portal.http["orders-2"]`."""
    portal = Portal(infra)
    settings = JOBS_ON_DEMAND if test_clock else {}
    await skip_backlog(kafka, ["catalog", "orders", "billing", "notify"])
    async with contextlib.AsyncExitStack() as stack:
        smtp = NotifySettings(
            smtp_host=infra.smtp_host, smtp_port=infra.smtp_port, send_poll_seconds=0.1, send_backoff_seconds=0.2
        )
        for d in (catalog_definition(), orders_definition(), billing_definition(), notify_definition(smtp)):
            portal.database_urls[d.name] = await new_database(d.name)
            rt, portal.http[d.name] = await stack.enter_async_context(
                running_service(d, database_url=portal.database_urls[d.name], kafka=kafka, **settings)
            )
            portal.runtimes[d.name] = rt
            _count_handed(portal, rt)
            if deliver_twice:
                rt.relay.after_publish = _publish_again(rt)
        if second_orders:
            _, portal.http["orders-2"] = await stack.enter_async_context(
                running_service(
                    orders_definition(),
                    database_url=portal.database_urls["orders"],
                    kafka=kafka,
                    consume=False,
                    relay=False,
                    **settings,
                )
            )
        if test_clock:
            for rt in portal.runtimes.values():
                await eventually(lambda rt=rt: rt.jobs.wakes > 0, what=f"{rt.definition.name}'s first scheduler round")
        yield portal


def _count_handed(portal: Portal, rt: ServiceRuntime) -> None:
    handle = rt.consumer.handle

    async def counting(body: bytes, record: Any) -> None:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            portal.handed[(rt.definition.name, json.loads(body)["id"])] += 1
        await handle(body, record)

    rt.consumer.handle = counting


def _publish_again(rt: ServiceRuntime):
    async def again(row: OutboxRecord) -> None:
        await rt.relay.send(row)

    return again


async def publish_external(
    kafka: str,
    events: Sequence[Event],
    *,
    source: str = "metering",
    copies: int = 1,
    key: Callable[[Event], str] | None = None,
    producer: AIOKafkaProducer | None = None,
) -> list[Envelope]:
    """Events on their topics as a system outside the portal publishes them (registry's
    EXTERNAL_PUBLISHERS, e.g. UnitsConsumed): each a CloudEvent (`Envelope` from `/portal/<source>`)
    with the headers the relay sets, keyed by the contract's key (`account_id`) unless `key(event)`
    names another (a producer that keys by something else), each sent `copies` times (as after a
    lost acknowledgement), all in flight at once; on `producer` (started) or a producer of its own."""
    own = producer is None
    if own:
        producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
        await producer.start()
    try:
        envelopes, sent = [], []
        for payload in events:
            envelope = Envelope.wrap(payload, producer=source, occurred_at=datetime.now(UTC))
            headers = [
                ("content-type", CONTENT_TYPE.encode()),
                ("event-type", envelope.type.encode()),
                ("event-id", str(envelope.event_id).encode()),
            ]
            value, partition_key = envelope.model_dump_json().encode(), (key(payload) if key else envelope.key)
            for _ in range(copies):
                sent.append(await producer.send(payload.topic, value, key=partition_key.encode(), headers=headers))
            envelopes.append(envelope)
        await asyncio.gather(*sent)
        return envelopes
    finally:
        if own:
            await producer.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json()


def money(value: Any) -> Decimal:
    return Decimal(str(value))


async def offer(portal: Portal, name: str, price: str, **billing: Any) -> dict[str, Any]:
    """An admin offers an additional service; orders learns it from CatalogItemPublished."""
    body = {
        "sku": f"{name[:8].upper().replace(' ', '-')}-{uuid.uuid4().hex[:8]}",
        "name": name,
        "description": f"{name}, for sellers",
        "price": price,
        "currency": "EUR",
        **(billing or {"billing": "one_time"}),
    }
    return ok(await portal.http["catalog"].post("/v1/admin/items", headers=ADMIN, json=body), 201)


async def seller(portal: Portal, language: str) -> tuple[str, str, dict[str, str]]:
    account = f"seller-{uuid.uuid4().hex[:8]}"
    email = f"{account}@example.test"
    headers = bearer(account)
    ok(
        await portal.http["orders"].put(
            "/v1/account/profile", headers=headers, json={"email": email, "language": language}
        )
    )
    await confirm_address(portal, email)
    return account, email, headers


CONFIRMATION = "email_confirmation"  # the first email to every address: notify mails none before it is confirmed


async def confirm_address(portal: Portal, email: str) -> dict[str, Any]:
    """What the reader of `email` does with the confirmation email notify sends it: post its token
    (the link's `token=`) to notify, no bearer token needed. Returns the confirmation email."""
    [mail] = await portal.emails(email, 1)
    assert mail["headers"]["X-Portal-Template"] == CONFIRMATION, mail["subject"]
    token = re.search(r"token=([A-Za-z0-9_-]+)", mail["text"]).group(1)
    confirmed = ok(await portal.http["notify"].post("/v1/email-confirmations", json={"token": token}))
    assert confirmed["email"] == email, confirmed
    return mail


async def draft_with(portal: Portal, headers: dict[str, str], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """A draft with these lines, once orders knows every item named."""

    async def created():
        r = await portal.http["orders"].post("/v1/requests", headers=headers, json={"lines": lines})
        if r.status_code == 201:
            return r.json()
        assert r.status_code == 409 and r.headers["retry-after"], r.text  # not offered yet: orders has not heard of it
        return None

    return await eventually(created, what="orders to know the offered services")


async def the_invoice(portal: Portal, headers: dict[str, str]) -> dict[str, Any]:
    async def issued():
        return ok(await portal.http["billing"].get("/v1/invoices", headers=headers))["items"]

    [summary] = await eventually(issued, what="billing to issue the invoice")
    return ok(await portal.http["billing"].get(f"/v1/invoices/{summary['id']}", headers=headers))


async def record_transfer(
    portal: Portal, invoice: dict[str, Any], amount: str, reference: str, key: str
) -> httpx.Response:
    """The business records a bank transfer that arrived (bank transfers are admin-recorded)."""
    return await portal.http["billing"].post(
        f"/v1/admin/invoices/{invoice['id']}/payments",
        headers={**ADMIN, "Idempotency-Key": key},
        json={
            "method": "bank_transfer",
            "amount": amount,
            "currency": invoice["currency"],
            "payer_reference": reference,
        },
    )


@dataclass
class Approved:
    account: str
    email: str
    headers: dict[str, str]
    request: dict[str, Any]
    invoice: dict[str, Any]
    items: dict[str, dict[str, Any]]


async def approved_and_paid_in_two_parts(portal: Portal, language: str) -> Approved:
    """submit → more information requested → answered → approved → two bank transfers →
    activated, checking each step's answer and the email it causes."""
    listing = await offer(portal, "Premium listing", "49.90", billing="recurring", billing_period_months=1)
    setup = await offer(portal, "Store setup", "150.00")
    banner = await offer(portal, "Homepage banner", "19.99", billing="recurring", billing_period_months=3)
    account, email, headers = await seller(portal, language)
    orders = portal.http["orders"]

    # Pick several services, see the summary with totals, edit it.
    draft = await draft_with(
        portal,
        headers,
        [
            {"item_id": listing["id"], "quantity": 1},
            {"item_id": setup["id"], "quantity": 2},
            {"item_id": banner["id"], "quantity": 1},
        ],
    )
    assert draft["status"] == "draft" and money(draft["total"]) == Decimal("369.89"), draft
    rid = draft["id"]
    edited = ok(await orders.delete(f"/v1/requests/{rid}/lines/{banner['id']}", headers=headers))
    assert money(edited["total"]) == Decimal("349.90")
    edited = ok(await orders.put(f"/v1/requests/{rid}/lines/{banner['id']}", headers=headers, json={"quantity": 2}))
    assert money(edited["total"]) == Decimal("389.88")
    edited = ok(await orders.put(f"/v1/requests/{rid}/lines/{setup['id']}", headers=headers, json={"quantity": 1}))
    edited = ok(await orders.delete(f"/v1/requests/{rid}/lines/{banner['id']}", headers=headers))
    assert [(line["name"], line["quantity"], money(line["line_total"])) for line in edited["lines"]] == [
        ("Premium listing", 1, Decimal("49.90")),
        ("Store setup", 1, Decimal("150.00")),
    ]
    assert money(edited["total"]) == Decimal("199.90") and edited["currency"] == "EUR"

    # Submit: the answer confirms it; it is listed with its status and dates.
    submitted = ok(await orders.post(f"/v1/requests/{rid}/submit", headers=headers))
    assert submitted["status"] == "submitted" and submitted["submitted_at"]
    [listed] = ok(await orders.get("/v1/requests", headers=headers))["items"]
    assert (listed["id"], listed["status"]) == (rid, "submitted") and listed["submitted_at"]
    # a submitted request cannot be edited: 409, nothing changes
    refused = await orders.put(f"/v1/requests/{rid}/lines/{setup['id']}", headers=headers, json={"quantity": 5})
    assert refused.status_code == 409 and refused.json()["current_status"] == "submitted", refused.text
    await portal.emails(email, 2)  # the address's confirmation, then "received"

    # The admin finds it waiting for review and asks a question.
    waiting = ok(
        await orders.get("/v1/admin/requests", headers=ADMIN, params={"status": "submitted", "account_id": account})
    )
    assert [r["id"] for r in waiting["items"]] == [rid] and waiting["total"] == 1
    question = "Which shop domain should the premium listing point to?"
    asked = ok(await orders.post(f"/v1/admin/requests/{rid}/ask", headers=ADMIN, json={"question": question}))
    assert asked["status"] == "information_requested"
    mails = await portal.emails(email, 3)
    assert question in mails[2]["text"] and question in mails[2]["html"]

    # The seller answers; the request goes back to review; the admin approves.
    answered = ok(
        await orders.post(f"/v1/requests/{rid}/answer", headers=headers, json={"answer": "shop.example.test, please"})
    )
    assert answered["status"] == "submitted"
    approved = ok(await orders.post(f"/v1/admin/requests/{rid}/approve", headers=ADMIN))
    assert approved["status"] == "approved"

    # Billing issues the invoice, with payment instructions; the seller is emailed it.
    invoice = await the_invoice(portal, headers)
    assert invoice["request_id"] == rid and money(invoice["total"]) == Decimal("199.90")
    assert invoice["status"] == "issued" and invoice["currency"] == "EUR"
    assert {i["method"] for i in invoice["payment_instructions"]} == {"card", "bank_transfer", "paypal"}
    mails = await portal.emails(email, 4)
    assert invoice["number"] in mails[3]["subject"] and invoice["number"] in mails[3]["text"]

    # Two bank transfers arrive; the business records each under its own Idempotency-Key.
    first = ok(await record_transfer(portal, invoice, "120.00", "ACME transfer 1/2", key=f"{rid}-1"), 201)
    assert first["invoice"]["status"] == "partially_paid" and money(first["invoice"]["balance_due"]) == Decimal("79.90")
    replay = ok(await record_transfer(portal, invoice, "120.00", "ACME transfer 1/2", key=f"{rid}-1"), 201)
    assert replay == first  # a retried request is answered as the first time, and pays nothing more
    too_much = await record_transfer(portal, invoice, "80.00", "ACME transfer 2/2", key=f"{rid}-x")
    assert too_much.status_code == 422 and too_much.json()["field"] == "amount", too_much.text
    mails = await portal.emails(email, 5)
    due = "79.90" if language == "en" else "79,90"  # the balance still due, in the language's number format
    assert due in mails[4]["text"], mails[4]["text"]
    second = ok(await record_transfer(portal, invoice, "79.90", "ACME transfer 2/2", key=f"{rid}-2"), 201)
    assert second["invoice"]["status"] == "paid" and money(second["invoice"]["balance_due"]) == 0
    assert len(second["invoice"]["payments"]) == 2

    # Paid: orders activates the services; they are on the seller's subscriptions page.
    async def subscriptions():
        return ok(await orders.get("/v1/subscriptions", headers=headers))["items"]

    subs = await eventually(subscriptions, what="the services to be activated")
    by_name = {s["name"]: s for s in subs}
    assert set(by_name) == {"Premium listing", "Store setup"} and len(subs) == 2
    assert all(s["status"] == "active" and s["request_id"] == rid for s in subs)
    assert by_name["Premium listing"]["billing"] == "recurring" and by_name["Premium listing"]["next_due_on"]
    assert by_name["Store setup"]["billing"] == "one_time" and by_name["Store setup"]["next_due_on"] is None
    assert ok(await orders.get(f"/v1/requests/{rid}", headers=headers))["status"] == "active"
    await portal.emails(email, 7)
    return Approved(account, email, headers, approved, invoice, {"listing": listing, "setup": setup, "banner": banner})


# -- the README's walkthroughs, run as written ---------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
MARKER = "__walkthrough_section_done__"


def readme_sections(title: str) -> list[tuple[int, str]]:
    """The ```sh block under the README's heading `title` as (section number, commands), a
    section starting at each `# N. ` comment; 0 is the preamble."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index(title)
    block = re.search(r"```sh\n(.*?)```", readme[start:], re.S)
    assert block, f"no ```sh block under {title!r} in README.md"
    sections, number, lines = [], 0, []
    for line in block.group(1).splitlines():
        m = re.match(r"# (\d+)\. ", line)
        if m:
            sections.append((number, "\n".join(lines)))
            number, lines = int(m.group(1)), []
        lines.append(line)
    sections.append((number, "\n".join(lines)))
    return sections


def local_addresses(portal: Portal) -> dict[str, str]:
    """The README's local addresses (`./portal up`: 8001-8005, the mail sink at 8025) as this
    test run has them."""
    ports = {name: client.base_url.port for name, client in portal.http.items()}
    return {
        "localhost:8001": f"127.0.0.1:{ports['catalog']}",
        "localhost:8002": f"127.0.0.1:{ports['orders']}",
        "localhost:8004": f"127.0.0.1:{ports['billing']}",
        "localhost:8005": f"127.0.0.1:{ports['notify']}",
        "localhost:8025": portal.infra.mailsink_url.rstrip("/").removeprefix("http://"),
    }


async def run_walkthrough(
    portal: Portal,
    sections: list[tuple[int, str]],
    swaps: dict[str, str],
    expect: dict[int, list[str]],
    data_dir: Path,
    *,
    timeout: float = 120,
) -> None:
    """Run the sections in one bash, as a person pasting them would (`./portal token` signing
    with the tests' key from `data_dir`), each with `swaps` put in; check that each printed what
    `expect` says and no jq error; wait for the system to settle before the next."""
    (data_dir / "jwt_secret").write_text(TEST_SECRET)
    shell = await asyncio.create_subprocess_exec(
        "bash",
        "--noprofile",
        "--norc",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PORTAL_DATA_DIR": str(data_dir)},
    )
    try:
        for number, commands in sections:
            for old, new in swaps.items():
                commands = commands.replace(old, new)
            assert "localhost:" not in commands, f"section {number} talks to a port this test does not run"
            shell.stdin.write(f"{commands}\nprintf '\\n%s\\n' {MARKER}\n".encode())
            await shell.stdin.drain()
            lines: list[str] = []
            try:
                await asyncio.wait_for(_until_marker(shell, lines), timeout=timeout)
            except TimeoutError:
                printed = "".join(lines)
                raise AssertionError(
                    f"section {number} did not finish in {timeout} s; it printed:\n{printed}"
                ) from None
            output = "".join(lines)
            assert "jq: error" not in output and "parse error" not in output, f"section {number}:\n{output}"
            for expected in expect.get(number, []):
                assert expected in output, f"section {number} did not print {expected!r}:\n{output}"
            await eventually(portal.settled, what=f"the system to settle after section {number}", timeout=60)
    finally:
        if shell.returncode is None:
            shell.kill()
        await shell.wait()


async def _until_marker(shell: asyncio.subprocess.Process, lines: list[str]) -> None:
    while True:
        line = await shell.stdout.readline()
        if not line:
            raise AssertionError("the walkthrough's shell ended early:\n" + "".join(lines))
        text = line.decode()
        if text.strip() == MARKER:
            return
        lines.append(text)
