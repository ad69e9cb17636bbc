"""A chaos run: many seller flows while processes die, and Kafka and PostgreSQL restart.

    uv run python tests/chaos.py --flows 200 --clients 8 --kill-every 2.0

(`tests/test_chaos_short.py` runs a short one in the test command.)

Starts its own Kafka, PostgreSQL and mail sink (free loopback ports, a temporary directory), then
every service as separate processes: one api and one relay per service and two workers per
consuming service. Clients drive seller flows (profile, confirm its address with the token from
the confirmation email, draft, submit, approve, wait for the invoice, pay by card, wait for
activation) and retry as real clients do: on a lost connection or
a 5xx they send the same request again, a payment with the same Idempotency-Key. Meanwhile a
chaos loop SIGKILLs a random api, worker or relay every `--kill-every` seconds and starts it again
(as a supervisor would), and kills Kafka and PostgreSQL once each (the whole process group,
started again on the same data). When the flows are done and the system is quiet, it counts:
lost effects (a flow without its activation or one of its five emails: its address's
confirmation, request received, invoice, payment received, services active), doubled effects (two
invoices for a request, two payments for an invoice, a service activated twice, a delivery made
twice for one event, an email of a kind received twice), dead letters, and outbox rows left
unpublished.
Exit code 1 when anything was lost, doubled or dead-lettered.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from outage import Role, kill_tree  # beside this script, which Python puts first on sys.path

from portal_contracts.registry import all_topics
from portal_runtime.migrations import upgrade
from portal_runtime.testing import TEST_SECRET, bearer
from portal_stack.config import Ports, StackConfig
from portal_stack.infra import Infra

SERVICES = ("catalog", "orders", "billing", "notify")
CONSUMING = ("orders", "billing", "notify")
ADMIN = bearer("ops", "admin")
# The emails of one flow, one of each: the confirmation of its address comes first.
EMAILS = ("email_confirmation", "request_received", "invoice_issued", "payment_received", "services_active")
# The figures of a run that pass only at 0 (the exit code and tests/test_chaos_short.py check them).
MUST_BE_NONE = (
    "lost activations",
    "lost emails",
    "emails of other kinds",
    "doubled invoices",
    "doubled payments",
    "doubled activations",
    "doubled deliveries",
    "dead letters",
    "outbox rows unpublished",
    "flows failed",
    "processes exited by themselves",
)
CARD = {"number": "4242 4242 4242 4242", "expiry_month": 12, "expiry_year": 2035, "cvc": "123"}


class Cluster:
    def __init__(self, infra: Infra, urls: dict[str, str], log_dir: Path) -> None:
        self.infra, self.urls, self.log_dir = infra, urls, log_dir
        self.roles: dict[str, Role] = {}
        self.kills = collections.Counter()
        self.exits: list[str] = []  # processes that ended without being killed

    def env(self, service: str) -> dict[str, str]:
        return {
            "SERVICE_NAME": service,
            "DATABASE_URL": self.urls[service],
            "JWT_SECRET": TEST_SECRET,
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.kafka_bootstrap,
            "SMTP_HOST": self.infra.smtp_host,
            "SMTP_PORT": str(self.infra.smtp_port),
            "SEND_POLL_SECONDS": "0.2",
            "SEND_BACKOFF_SECONDS": "0.5",
            "CONSUMER_BACKOFF_SECONDS": "0.1",
            "RELAY_POLL_SECONDS": "0.05",
            "LOG_LEVEL": "WARNING",
        }

    def start(self, name: str) -> None:
        service, role, *_ = name.split("-")
        old = self.roles.get(name)
        port = old.port if old else None
        self.roles[name] = Role(service, role, self.env(service), self.log_dir, port=port, name=name)

    def start_all(self) -> None:
        for service in SERVICES:
            self.start(f"{service}-api")
            self.start(f"{service}-relay")
        for service in CONSUMING:
            for n in (1, 2):
                self.start(f"{service}-worker-{n}")

    def api(self, service: str) -> str:
        return self.roles[f"{service}-api"].url

    def kill_one(self, rng: random.Random) -> str:
        name = rng.choice(sorted(self.roles))
        os.killpg(self.roles[name].proc.pid, signal.SIGKILL)
        self.roles[name].proc.wait()
        self.kills[name.split("-")[1]] += 1
        self.start(name)
        return name

    def restart_exited(self) -> None:
        """A supervisor's job: start again what ended by itself (and count it: none should)."""
        for name, role in list(self.roles.items()):
            if not role.alive():
                self.exits.append(f"{name} exit {role.proc.returncode}")
                self.start(name)

    def stop(self) -> None:
        for r in self.roles.values():
            r.stop()


async def call(client: httpx.AsyncClient, method: str, url: str, *, ok=(200, 201), deadline: float, **kw):
    """Send until answered with one of `ok` (retrying lost connections and 5xx, same body); a
    timeout names the last answer (or transport error) seen."""
    last = "nothing"
    while True:
        try:
            r = await client.request(method, url, **kw)
            if r.status_code in ok:
                return r
            if r.status_code < 500 and r.status_code not in (404, 409, 422):
                raise AssertionError(f"{method} {url}: {r.status_code} {r.text}")
            last = f"{r.status_code} {r.text[:300]}"
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise TimeoutError(f"{method} {url} not answered in time (last: {last})")
        await asyncio.sleep(0.3)


async def flow(cluster: Cluster, client: httpx.AsyncClient, item_id: str, n: int, deadline: float) -> dict:
    account = f"chaos-{n}-{uuid.uuid4().hex[:6]}"
    me, email = bearer(account), f"{account}@example.test"
    await call(
        client,
        "PUT",
        cluster.api("orders") + "/v1/account/profile",
        headers=me,
        json={"email": email, "language": "en"},
        deadline=deadline,
    )
    await confirm_address(cluster, client, email, deadline)
    draft = (
        await call(
            client,
            "POST",
            cluster.api("orders") + "/v1/requests",
            headers=me,
            ok=(201,),
            json={"lines": [{"item_id": item_id, "quantity": 1}]},
            deadline=deadline,
        )
    ).json()
    rid = draft["id"]
    # a lost answer to submit or approve is retried: 409 with the status already reached is success
    for path, headers, done in (
        (f"/v1/requests/{rid}/submit", me, "submitted"),
        (f"/v1/admin/requests/{rid}/approve", ADMIN, "approved"),
    ):
        r = await call(client, "POST", cluster.api("orders") + path, headers=headers, ok=(200, 409), deadline=deadline)
        assert r.status_code == 200 or r.json().get("current_status") in (done, "approved", "active"), r.text
    while True:
        r = await call(client, "GET", cluster.api("billing") + "/v1/invoices", headers=me, deadline=deadline)
        if r.json()["items"]:
            invoice = r.json()["items"][0]
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"no invoice for request {rid} in time")
        await asyncio.sleep(0.3)
    await call(
        client,
        "POST",
        cluster.api("billing") + f"/v1/invoices/{invoice['id']}/payments",
        ok=(201,),
        headers={**me, "Idempotency-Key": f"pay-{rid}"},
        deadline=deadline,
        json={
            "method": "card",
            "amount": invoice["total"],
            "currency": invoice["currency"],
            "payer_reference": account,
            "card": CARD,
        },
    )
    while True:
        r = await call(client, "GET", cluster.api("orders") + "/v1/subscriptions", headers=me, deadline=deadline)
        subs = r.json()["items"] if isinstance(r.json(), dict) else r.json()
        if subs and all(s["status"] == "active" for s in subs):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"services of request {rid} not active in time")
        await asyncio.sleep(0.3)
    return {"account": account, "email": email, "request": rid}


async def confirm_address(cluster: Cluster, client: httpx.AsyncClient, email: str, deadline: float) -> None:
    """As the address's reader: wait for the confirmation email in the mail sink, post its token
    to notify (a lost answer is posted again: the same token answers 200 again)."""
    sink = cluster.infra.mailsink_url.rstrip("/") + "/api/messages"
    while True:
        mails = (await client.get(sink, params={"to": email})).json()
        texts = [m["text"] for m in mails if m["headers"].get("X-Portal-Template") == "email_confirmation"]
        if texts:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"no confirmation email to {email} in time")
        await asyncio.sleep(0.3)
    token = re.search(r"token=([A-Za-z0-9_-]+)", texts[0]).group(1)
    url = cluster.api("notify") + "/v1/email-confirmations"
    await call(client, "POST", url, ok=(200,), json={"token": token}, deadline=deadline)


# How long the chaos loop waits for what it killed to be ready again before it goes on regardless.
RECOVERY_SECONDS = 90.0


async def ready_again(roles: list[Role], stop: asyncio.Event) -> None:
    """Until each role answers /health/ready (its consumers and relay started), the run stops, or
    RECOVERY_SECONDS pass."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    async with httpx.AsyncClient(timeout=2) as client:
        for role in roles:
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    if (await client.get(role.url + "/health/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)


async def chaos(
    cluster: Cluster, rng: random.Random, every: float, stop: asyncio.Event, log, restarted: dict, at: dict
) -> dict:
    """Every `every` seconds a SIGKILL of a random role (started again at once), and Kafka and
    PostgreSQL killed once each at their times. The next kill's wait starts once what was killed is
    ready again: a fixed cadence on a loaded machine killed workers faster than they could start
    (a worker took over 20 s to start at a load of 11, and each was killed every 21 s on average),
    so a consumer group stayed empty for minutes and the run measured the machine's speed instead
    of the guarantees."""
    started = time.monotonic()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
            break
        except TimeoutError:
            pass
        cluster.restart_exited()
        elapsed = time.monotonic() - started
        for server, when in at.items():
            if not restarted[server] and elapsed > when:
                target = getattr(cluster.infra, server)
                kill_tree(target.proc)
                target.proc = None
                log(f"  killed {server}, down for 5 s")
                await asyncio.sleep(5)
                await target.start()
                restarted[server] += 1
                await ready_again(list(cluster.roles.values()), stop)
                break
        else:
            name = cluster.kill_one(rng)
            log(f"  killed {name}")
            await ready_again([cluster.roles[name]], stop)
    return restarted


async def consumer_lag(bootstrap: str) -> int:
    """Messages on the topics that the consuming services' groups have not committed yet."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = {}
        for group in CONSUMING:
            committed[group] = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await probe.start()
    try:
        lag = 0
        for offsets in committed.values():
            if not offsets:
                continue
            ends = await probe.end_offsets(list(offsets))
            lag += sum(max(0, ends[tp] - meta.offset) for tp, meta in offsets.items())
        return lag
    finally:
        await probe.stop()


async def quiet(cluster: Cluster, timeout: float) -> None:
    """Quiet: every outbox row published, every consuming group caught up with its topics (a
    consumer still backing off after an outage has lag), and no email pending; twice in a row."""
    import asyncpg

    deadline = time.monotonic() + timeout
    calm = 0
    while time.monotonic() < deadline:
        busy = 0
        for service in SERVICES:
            conn = await asyncpg.connect(cluster.urls[service].replace("+asyncpg", ""))
            try:
                busy += await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                if service == "notify":
                    busy += await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'pending'")
            finally:
                await conn.close()
        if busy == 0:
            try:
                busy += await consumer_lag(cluster.infra.kafka_bootstrap)
            except Exception:  # Kafka still settling: not quiet yet
                busy += 1
        calm = calm + 1 if busy == 0 else 0
        if calm >= 2:
            return
        await asyncio.sleep(1)
    raise TimeoutError("the system did not become quiet")


async def query(cluster: Cluster, service: str, sql: str) -> list:
    import asyncpg

    conn = await asyncpg.connect(cluster.urls[service].replace("+asyncpg", ""))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def count(cluster: Cluster, flows: list[dict]) -> dict:
    from portal_runtime.dlq import read_dead_letters

    async def q(service: str, sql: str):
        return await query(cluster, service, sql)

    accounts = {f["account"] for f in flows}
    invoices = collections.Counter(r["request_id"] for r in await q("billing", "SELECT request_id FROM invoices"))
    payments = collections.Counter(r["invoice_id"] for r in await q("billing", "SELECT invoice_id FROM payments"))
    subs = collections.Counter(
        (r["request_id"], r["item_id"]) for r in await q("orders", "SELECT request_id, item_id FROM subscriptions")
    )
    active = {str(r["id"]) for r in await q("orders", "SELECT id FROM service_requests WHERE status = 'active'")}
    deliveries = collections.Counter(
        r["cause_event_id"] for r in await q("notify", "SELECT cause_event_id FROM deliveries")
    )
    unpublished = sum(
        [(await q(s, "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"))[0]["n"] for s in SERVICES]
    )
    async with httpx.AsyncClient(timeout=30) as client:  # the sink runs in this event loop
        mails = (await client.get(cluster.infra.mailsink_url.rstrip("/") + "/api/messages")).json()
    # (address, kind) → how many emails of that kind the address received
    by_kind = collections.Counter((to, m["headers"].get("X-Portal-Template")) for m in mails for to in m["rcpt_to"])
    message_ids = collections.Counter(m["headers"].get("Message-ID") for m in mails)
    dead = sum([len(await read_dead_letters(cluster.infra.kafka_bootstrap, s)) for s in SERVICES])
    return {
        "flows": len(flows),
        "lost activations": sum(1 for f in flows if f["request"] not in active),
        "lost emails": sum(1 for f in flows for kind in EMAILS if by_kind[(f["email"], kind)] == 0),
        "doubled invoices": sum(n - 1 for n in invoices.values() if n > 1),
        "doubled payments": sum(n - 1 for n in payments.values() if n > 1),
        "doubled activations": sum(n - 1 for n in subs.values() if n > 1),
        "doubled deliveries": sum(n - 1 for n in deliveries.values() if n > 1),
        "emails resent (same Message-ID)": sum(n - 1 for k, n in message_ids.items() if k and n > 1),
        "emails beyond one of each kind per flow": sum(
            max(0, by_kind[(f["email"], kind)] - 1) for f in flows for kind in EMAILS
        ),
        "emails of other kinds": sum(n for (to, kind), n in by_kind.items() if kind not in EMAILS),
        "dead letters": dead,
        "outbox rows unpublished": unpublished,
        "accounts": len(accounts),
    }


def make_infra(prefix: str, ports: Ports) -> tuple[Infra, Path]:
    """Kafka, PostgreSQL and the mail sink of a run, in a temporary directory (not started)."""
    data = Path(tempfile.mkdtemp(prefix=f"portal-{prefix.rstrip('_')}-"))
    data.chmod(0o755)
    infra = Infra(
        StackConfig.from_env({}, ports=ports, data_dir=data),
        database_prefix=prefix,
        recreate_databases=True,
        pick_free_ports=True,
    )
    return infra, data


async def start_servers(infra: Infra) -> dict[str, str]:
    """Start the servers, create the topics and every service's database, migrated; its URLs."""
    await infra.start(topics=all_topics(), services=SERVICES)
    urls = {s: await infra.database_url(s) for s in SERVICES}
    for s in SERVICES:
        module = __import__(f"{s}.bootstrap", fromlist=["definition"])
        await asyncio.to_thread(upgrade, module.definition().migrations, urls[s])
    return urls


async def sellable_item(cluster: Cluster, client: httpx.AsyncClient, deadline: float) -> dict:
    """The item the flows request, created in catalog and known to orders (from its event)."""
    item = (
        await call(
            client,
            "POST",
            cluster.api("catalog") + "/v1/admin/items",
            headers=ADMIN,
            ok=(201,),
            deadline=deadline,
            json={
                "sku": "CHAOS-1",
                "name": "Premium listing",
                "price": "49.90",
                "currency": "EUR",
                "billing": "recurring",
                "billing_period_months": 1,
            },
        )
    ).json()
    # orders learns the item from its event: wait for it before the flows start
    probe = bearer("probe")
    await call(
        client,
        "POST",
        cluster.api("orders") + "/v1/requests",
        headers=probe,
        ok=(201,),
        json={"lines": [{"item_id": item["id"], "quantity": 1}]},
        deadline=deadline,
    )
    return item


async def main(args) -> int:
    rng = random.Random(args.seed)
    # Ports of its own, below the ephemeral range (not the tests' 2xxxx): while its Kafka is down,
    # a test session started meanwhile must not take the port and have chaos workers join its groups.
    ports = Ports(kafka=31092, kafka_controller=31093, postgres=31432, smtp=31025, mail_http=31026)
    infra, data = make_infra("chaos_", ports)
    t0 = time.monotonic()

    def log(text: str) -> None:
        print(f"[{time.monotonic() - t0:6.1f}s] {text}", flush=True)

    urls = await start_servers(infra)
    log(f"servers up in {data}")
    cluster = Cluster(infra, urls, data / "logs")
    cluster.start_all()
    flows: list[dict] = []
    failures: list[str] = []
    try:
        async with httpx.AsyncClient(timeout=15) as client:
            deadline = time.monotonic() + args.timeout
            item = await sellable_item(cluster, client, deadline)
            log(f"system ready; {args.flows} flows on {args.clients} clients")
            stop = asyncio.Event()
            restarted = {"kafka": 0, "postgres": 0}
            at = {"kafka": args.kafka_at, "postgres": args.postgres_at}
            chaos_task = asyncio.create_task(chaos(cluster, rng, args.kill_every, stop, log, restarted, at))
            counter = iter(range(10**9))

            def more() -> int | None:
                """The next flow's number: `--flows` of them, and on until Kafka and PostgreSQL
                have each been restarted once and `--min-kills` processes were killed (a short run
                must see them all happen while flows run)."""
                n = next(counter)
                more_needed = not all(restarted.values()) or sum(cluster.kills.values()) < args.min_kills
                return n if n < args.flows or more_needed else None

            async def client_loop() -> None:
                while (n := more()) is not None:
                    try:
                        flows.append(await flow(cluster, client, item["id"], n, deadline))
                    except Exception as exc:
                        failures.append(f"flow {n}: {type(exc).__name__}: {exc}")

            clients = asyncio.gather(*(client_loop() for _ in range(args.clients)))
            await asyncio.wait([clients, chaos_task], return_when=asyncio.FIRST_COMPLETED)
            if chaos_task.done() and chaos_task.exception():  # the chaos loop broke: stop, say why
                clients.cancel()
                raise chaos_task.exception()
            await clients
            stop.set()
            restarts = await chaos_task
            log(f"flows done: {len(flows)} completed, {len(failures)} failed; waiting for quiet")
            await quiet(cluster, 180)
            cluster.restart_exited()
            figures = await count(cluster, flows)
            exited = cluster.exits
    finally:
        cluster.stop()
        await infra.stop()
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    figures.update(
        {
            "flows failed": len(failures),
            "kills": dict(cluster.kills),
            "kafka restarts": restarts["kafka"],
            "postgres restarts": restarts["postgres"],
            "processes exited by themselves": len(exited),
            "seconds": round(time.monotonic() - t0),
        }
    )
    print(json.dumps(figures, indent=2))
    for f in failures[:10]:
        print(f, file=sys.stderr)
    bad = [k for k in MUST_BE_NONE if figures[k]]
    print("FAILED: " + ", ".join(bad) if bad else "OK: nothing lost, nothing doubled, nothing dead-lettered")
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--kill-every", type=float, default=2.0, help="seconds from a killed process ready again to the next kill"
    )
    parser.add_argument("--min-kills", type=int, default=0, help="flows go on until this many processes were killed")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for all flows")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kafka-at", type=float, default=8, help="seconds into the flows Kafka is killed")
    parser.add_argument("--postgres-at", type=float, default=20, help="seconds into the flows PostgreSQL is killed")
    parser.add_argument("--keep", action="store_true", help="keep the data and logs directory")
    sys.exit(asyncio.run(main(parser.parse_args())))
