"""Seller flows, closed loop: each client runs one flow after another (profile → draft → submit →
approve → invoice → card payment → active → the four emails), at 1, 8 and 32 clients.

The steps come from the tests' own flow driver, `tests/flow.py` (`seller`, `draft_with`, `offer`,
`ok`, `ADMIN`) and the card of `tests/chaos.py`, imported by path: when an address or a step of
the flow changes there (an admin path, a confirmed email), the benchmark runs the changed flow.

Waiting adds no load that grows with the clients: one query per tick for all waiting flows finds
the invoices and activations (as role `bench`, not counted), and emails are seen as the sink in
this process stores them. The latencies are taken from the servers' own timestamps afterwards
(billing's `issued_at`, the request history's `at` of `active`, the sink's receive time), so a
busy client loop does not stretch them. Every HTTP call is timed by the client's transport.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from portal_stack.bench.measure import percentiles
from portal_stack.config import repo_root
from portal_stack.errors import InfraError

EMAILS = 4  # request received, invoice, payment received, services active
WAIT_SECONDS = 120
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_helpers():
    """tests/flow.py and tests/chaos.py, imported from the repository's tests folder."""
    root = repo_root()
    tests = root / "tests" if root else None
    if tests is None or not (tests / "flow.py").is_file():
        raise InfraError("`portal bench` drives the flow of tests/flow.py: run it from the repository")
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))
    import chaos
    import flow

    return flow, chaos


class TimedTransport(httpx.AsyncHTTPTransport):
    """Records the time to the answer's headers of every call, by method and path (ids as {id})."""

    def __init__(self, calls: dict[str, list[float]], **kw: Any) -> None:
        super().__init__(**kw)
        self.calls = calls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        response = await super().handle_async_request(request)
        self.calls[f"{request.method} {UUID.sub('{id}', request.url.path)}"].append(time.perf_counter() - start)
        return response


class Mailbox:
    """The emails the sink stores, by recipient, with the time each arrived; what tests/flow.py's
    `Portal.infra.messages` reads (parsing only that recipient's messages)."""

    def __init__(self, store) -> None:
        self.store = store
        self.arrived: dict[str, list[tuple[float, str]]] = collections.defaultdict(list)
        self.changed = asyncio.Event()
        loop = asyncio.get_running_loop()
        save = store.save

        def saving(mail_from: str, rcpt_to: list[str], content: bytes) -> str:
            msg_id = save(mail_from, rcpt_to, content)
            loop.call_soon_threadsafe(self._note, [r.lower() for r in rcpt_to], time.time(), msg_id)
            return msg_id

        store.save = saving

    def _note(self, rcpt: list[str], at: float, msg_id: str) -> None:
        for to in rcpt:
            self.arrived[to].append((at, msg_id))
        self.changed.set()

    async def wait(self, to: str, n: int, since: float) -> list[float]:
        """Arrival times of the first `n` emails to `to` received after `since`."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            times = [at for at, _ in self.arrived[to.lower()] if at >= since]
            if len(times) >= n:
                return times[:n]
            if time.monotonic() > deadline:
                raise TimeoutError(f"{n} emails to {to} (got {len(times)} in {WAIT_SECONDS} s)")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 1)

    async def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        ids = [i for _, i in self.arrived[to.lower()]] if to else self.store.ids()
        return [m for m in await asyncio.to_thread(lambda: [self.store.get(i) for i in ids]) if m]


class Watcher:
    """Finds invoices (billing) and activations (orders) for every waiting flow, one query per
    database per tick."""

    def __init__(self, billing_dsn: str, orders_dsn: str, tick: float = 0.02) -> None:
        self.dsns = {"invoice": billing_dsn, "active": orders_dsn}
        self.queries = {
            "invoice": "SELECT request_id::text AS rid, id::text AS found FROM invoices"
            " WHERE request_id = ANY($1::uuid[])",
            "active": "SELECT id::text AS rid, id::text AS found FROM service_requests"
            " WHERE id = ANY($1::uuid[]) AND status = 'active'",
        }
        self.tick = tick
        self.waiting: dict[str, dict[str, asyncio.Future]] = {"invoice": {}, "active": {}}
        self.task: asyncio.Task | None = None
        self.conns: dict[str, asyncpg.Connection] = {}

    async def start(self) -> None:
        self.conns = {what: await asyncpg.connect(dsn) for what, dsn in self.dsns.items()}
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        for conn in self.conns.values():
            await conn.close()

    async def wait(self, what: str, rid: str) -> str:
        future = asyncio.get_running_loop().create_future()
        self.waiting[what][rid] = future
        try:
            return await asyncio.wait_for(future, WAIT_SECONDS)
        except TimeoutError:
            if self.task is not None and self.task.done() and self.task.exception():
                raise self.task.exception() from None  # the watcher's query failed: say why
            raise TimeoutError(f"{what} of request {rid} not seen in {WAIT_SECONDS} s") from None
        finally:
            self.waiting[what].pop(rid, None)

    async def _run(self) -> None:
        while True:
            for what, waiting in self.waiting.items():
                if waiting:
                    for row in await self.conns[what].fetch(self.queries[what], list(waiting)):
                        future = waiting.get(row["rid"])
                        if future is not None and not future.done():
                            future.set_result(row["found"])
            await asyncio.sleep(self.tick)


@dataclass
class FlowTimes:
    request: str
    submitted: float  # wall-clock time the answer came
    approved: float
    paid: float
    emails: list[float]


class Flows:
    """The driver: HTTP clients on the running services, the mailbox, the watcher."""

    def __init__(self, system) -> None:
        self.system = system
        self.flow, self.chaos = test_helpers()
        self.calls: dict[str, list[float]] = collections.defaultdict(list)
        self.portal = None
        self.item_id = ""
        self.mailbox: Mailbox | None = None
        self.watcher: Watcher | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Flows]:
        self.mailbox = Mailbox(self.system.infra.mailsink.store)
        self.portal = self.flow.Portal(self.mailbox)
        self.watcher = Watcher(self.system.dsn("billing", bench=True), self.system.dsn("orders", bench=True))
        async with contextlib.AsyncExitStack() as stack:
            for name in ("catalog", "orders", "billing", "notify"):
                self.portal.http[name] = await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=self.system.api(name),
                        timeout=60,
                        transport=TimedTransport(self.calls, limits=httpx.Limits(max_connections=200)),
                    )
                )
            await self.watcher.start()
            stack.push_async_callback(self.watcher.stop)
            item = await self.flow.offer(
                self.portal, "Premium listing", "49.90", billing="recurring", billing_period_months=1
            )
            self.item_id = item["id"]
            yield self

    async def one(self) -> FlowTimes:
        flow, portal = self.flow, self.portal
        orders, billing = portal.http["orders"], portal.http["billing"]
        account, email, me = await flow.seller(portal, "en")
        draft = await flow.draft_with(portal, me, [{"item_id": self.item_id, "quantity": 1}])
        rid = draft["id"]
        since = time.time()
        flow.ok(await orders.post(f"/v1/requests/{rid}/submit", headers=me))
        submitted = time.time()
        flow.ok(await orders.post(f"/v1/admin/requests/{rid}/approve", headers=flow.ADMIN))
        approved = time.time()
        invoice_id = await self.watcher.wait("invoice", rid)
        invoice = flow.ok(await billing.get(f"/v1/invoices/{invoice_id}", headers=me))
        payment = {
            "method": "card",
            "amount": invoice["total"],
            "currency": invoice["currency"],
            "payer_reference": account,
            "card": self.chaos.CARD,
        }
        flow.ok(
            await billing.post(
                f"/v1/invoices/{invoice_id}/payments", headers={**me, "Idempotency-Key": f"pay-{rid}"}, json=payment
            ),
            201,
        )
        paid = time.time()
        await self.watcher.wait("active", rid)
        flow.ok(await orders.get("/v1/subscriptions", headers=me))
        emails = await self.mailbox.wait(email, EMAILS, since)
        return FlowTimes(rid, submitted, approved, paid, emails)

    async def level(self, clients: int, total: int) -> tuple[list[FlowTimes], float, dict[str, list[float]]]:
        """`total` flows on `clients` clients; the flows, the seconds from the first start to the
        last end, and the HTTP calls' times."""
        self.calls.clear()
        left = iter(range(total))
        done: list[FlowTimes] = []

        async def client() -> None:
            while next(left, None) is not None:
                done.append(await self.one())

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        seconds = time.perf_counter() - start
        return done, seconds, {k: list(v) for k, v in self.calls.items()}

    async def latencies(self, flows: list[FlowTimes]) -> dict[str, dict[str, float]]:
        """approve → invoice, payment → active, submit → last email, from the servers' clocks."""
        rids = [f.request for f in flows]
        billing = await asyncpg.connect(self.system.dsn("billing", bench=True))
        orders = await asyncpg.connect(self.system.dsn("orders", bench=True))
        try:
            issued = {
                r["rid"]: r["at"].timestamp()
                for r in await billing.fetch(
                    "SELECT request_id::text AS rid, issued_at AS at FROM invoices WHERE request_id = ANY($1::uuid[])",
                    rids,
                )
            }
            active = {
                r["rid"]: r["at"].timestamp()
                for r in await orders.fetch(
                    "SELECT request_id::text AS rid, max(at) AS at FROM request_history"
                    " WHERE to_status = 'active' AND request_id = ANY($1::uuid[]) GROUP BY 1",
                    rids,
                )
            }
        finally:
            await billing.close()
            await orders.close()
        return {
            "submit_to_last_email_ms": percentiles([max(f.emails) - f.submitted for f in flows]),
            "approve_to_invoice_ms": percentiles([issued[f.request] - f.approved for f in flows]),
            "payment_to_active_ms": percentiles([active[f.request] - f.paid for f in flows]),
        }
