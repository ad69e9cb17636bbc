"""The client area over HTTP with orders' real consumers, on the real Kafka and PostgreSQL:
catalog's events fill the copy, a customer fills its cart and checks out once per
Idempotency-Key (two requests at once included), billing's events link the invoice and fulfil
the order once (PaymentConfirmed told twice, with two event ids), every refusal of an add-on and
a renewal line names its field; and the database's own guarantee that no service period is on
two live orders (the renewal-claim unique index)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal

import pytest
from orders_testkit import NOW
from sqlalchemy import func, select
from test_http import inboxed, outbox_count, produce

from orders.adapters.events import to_contract
from orders.adapters.repository import OrdersUnitOfWork, PeriodOrdered
from orders.adapters.tables import OrderLineRow
from orders.bootstrap import definition
from orders.domain.lines import LineKind, OrderLine
from orders.domain.orders import Order, Source
from portal_contracts import Money
from portal_contracts.events.billing import InvoiceIssuedV2, PaymentConfirmed
from portal_contracts.events.catalog import CatalogItemPublished, CyclePrice
from portal_runtime.clock import FrozenClock
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.outbox import Outbox
from portal_runtime.testing import bearer, eventually, running_service
from portal_runtime.uow import UnitsOfWork

ACME, OTHER, OPS = bearer("acme"), bearer("other"), bearer("ops", "admin")


def catalog_item(name: str, prices: dict[str, str], *, kind: str = "service", parents=()) -> CatalogItemPublished:
    cycles = [CyclePrice(cycle=c, price=Decimal(p)) for c, p in prices.items()]
    first = cycles[0]
    return CatalogItemPublished(
        item_id=uuid.uuid4(),
        sku=f"{name.upper()}-1",
        name=name,
        price=Money(amount=first.price, currency="EUR"),
        billing="one_time" if first.cycle == "one_time" else "recurring",
        billing_period_months=None if first.cycle == "one_time" else 1,
        revision=1,
        published_at=NOW,
        kind=kind,
        prices=cycles,
        parents=list(parents),
    )


def invoice_for(order: dict) -> InvoiceIssuedV2:
    total = Money(amount=Decimal(order["total"]), currency=order["currency"])
    return InvoiceIssuedV2(
        invoice_id=uuid.uuid4(),
        number="INV-2026-000001",
        account_id=order["account_id"],
        source_kind="order",
        source_id=order["order_id"],
        currency=order["currency"],
        lines=[],
        total=total,
        tax_total=Money(amount=Decimal("0.00"), currency=order["currency"]),
        due_on=date(2026, 1, 31),
        payment_instructions=[],
        issued_at=NOW,
    )


def paid(invoice: InvoiceIssuedV2) -> PaymentConfirmed:
    return PaymentConfirmed(
        invoice_id=invoice.invoice_id,
        number=invoice.number,
        account_id=invoice.account_id,
        amount_paid=invoice.total,
        confirmed_at=NOW,
    )


async def add(http, line: dict, headers=ACME):
    """POST /v1/cart/lines, asked again while the copy does not know the item (409 + Retry-After)."""

    async def answered():
        r = await http.post("/v1/cart/lines", json=line, headers=headers)
        return None if r.status_code == 409 and r.headers.get("retry-after") else r

    return await eventually(answered, what="orders' copy to know the item")


def refusal(r, status: int, field: str) -> dict:
    assert r.status_code == status and r.json()["field"] == field, r.text
    return r.json()


async def test_checkout_once_per_key_fulfilment_once_and_each_line_refusal_names_its_field(new_database, kafka):
    hosting = catalog_item("Hosting", {"monthly": "10.00", "annual": "100.00"})
    setup = catalog_item("Setup", {"one_time": "50.00"})
    ssl = catalog_item("SSL", {"monthly": "12.00"}, kind="add_on", parents=[hosting.item_id])
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(NOW)) as (rt, http):
        await produce(kafka, hosting, setup, ssl)
        lines = [
            {"kind": "new", "item_id": str(hosting.item_id), "cycle": "monthly", "domain": "example.com"},
            {"kind": "new", "item_id": str(hosting.item_id), "cycle": "annual", "domain": "shop.example.com"},
            {"kind": "new", "item_id": str(setup.item_id), "cycle": "one_time"},
        ]
        for line in lines:
            assert (r := await add(http, line)).status_code == 201, r.text
        cart = r.json()
        assert (cart["total"], cart["currency"]) == ("160.00", "EUR")
        monthly, annual, once = (line["subscription_id"] for line in cart["lines"])

        assert (await http.post("/v1/cart/checkout", headers=ACME)).status_code == 400  # no Idempotency-Key
        key = {**ACME, "Idempotency-Key": "checkout-1"}
        first, second = await asyncio.gather(*(http.post("/v1/cart/checkout", headers=key) for _ in range(2)))
        assert (first.status_code, second.status_code) == (201, 201) and first.content == second.content
        order = first.json()
        assert (order["status"], order["source"], order["total"], order["invoice_id"]) == (
            "placed",
            "cart",
            "160.00",
            None,
        )
        assert (await http.get("/v1/cart", headers=ACME)).json()["lines"] == []
        assert (await http.get("/v1/orders", headers=ACME)).json()["total"] == 1
        assert (await http.get(f"/v1/orders/{order['order_id']}", headers=OTHER)).status_code == 404
        refusal(await http.post("/v1/cart/checkout", headers={**ACME, "Idempotency-Key": "k2"}), 422, "lines")

        invoice = invoice_for(order)
        payment = paid(invoice)
        sent = await produce(kafka, invoice, payment, paid(invoice))  # told twice, two event ids
        await eventually(lambda: inboxed(rt, sent[-1].event_id), what="the second PaymentConfirmed")
        active = (await http.get(f"/v1/services/{monthly}", headers=ACME)).json()
        assert (active["status"], active["price"], active["cycle"], active["next_due_on"]) == (
            "active",
            "10.00",
            "monthly",
            "2026-02-28",
        )
        assert [i["status"] for i in active["invoices"]] == ["paid"] and active["order_ids"] == [order["order_id"]]
        assert (await http.get(f"/v1/services/{once}", headers=ACME)).json()["status"] == "completed"
        assert await outbox_count(rt, "ServiceActivated") == 3  # one per service, once
        assert (await http.get(f"/v1/orders/{order['order_id']}", headers=ACME)).json()["status"] == "paid"
        assert (await http.get(f"/v1/services/{monthly}", headers=OTHER)).status_code == 404
        counts = (await http.get("/v1/services/counts", headers=ACME)).json()
        assert (counts["counts"]["active"], counts["counts"]["completed"], counts["total"]) == (2, 1, 3)
        listed = (await http.get("/v1/services", params={"status": "active"}, headers=ACME)).json()
        assert sorted(s["domain"] for s in listed["items"]) == ["example.com", "shop.example.com"]
        seller_list = (await http.get("/v1/subscriptions", headers=ACME)).json()  # the seller flow's list shows them
        assert sorted(s["request_id"] or "cart" for s in seller_list["items"]) == ["cart"] * 3

        # add-on refusals, each naming its field
        def add_on(parent, cycle="monthly", item=ssl.item_id):
            return {"kind": "add_on", "item_id": str(item), "cycle": cycle, "parent_subscription_id": str(parent)}

        refusal(await add(http, add_on(monthly, "annual")), 422, "cycle")
        refusal(await add(http, add_on(once)), 422, "parent_subscription_id")  # a one-time product: not for it
        refusal(await add(http, add_on(monthly), OTHER), 404, "parent_subscription_id")  # another account's
        refusal(await add(http, add_on(monthly, item=hosting.item_id)), 422, "item_id")  # not an add-on
        offered = (await http.get(f"/v1/services/{monthly}/add-ons", headers=ACME)).json()["items"]
        assert [(o["name"], o["max_per_parent"]) for o in offered] == [("SSL", 1)]
        assert (r := await add(http, add_on(monthly))).status_code == 201, r.text
        assert r.json()["lines"][0]["amount"] == "12.00"  # on its parent's first day: the whole period is left
        refusal(await add(http, add_on(monthly)), 422, "parent_subscription_id")  # over max_per_parent
        await http.delete(f"/v1/cart/lines/{r.json()['lines'][0]['line_id']}", headers=ACME)
        r = await http.post(f"/v1/admin/services/{annual}/suspend", json={"reason": "abuse"}, headers=OPS)
        assert r.status_code == 200 and r.json()["suspend_reason"] == "abuse", r.text
        body = refusal(await add(http, add_on(annual)), 422, "parent_subscription_id")  # not active
        assert body["current_status"] == "suspended"

        # renewal refusals
        renew = {"kind": "renewal", "subscription_id": str(annual)}
        r = await http.post(f"/v1/admin/services/{annual}/reactivate", headers=OPS)
        assert r.status_code == 200 and r.json()["status"] == "active", r.text
        body = refusal(await add(http, renew), 422, "subscription_id")  # due 2027-01-31: window opens 2027-01-01
        assert body["window_opens_on"] == "2027-01-01" and "2027-01-01" in body["detail"]
        refusal(await add(http, {"kind": "renewal", "subscription_id": str(once)}), 422, "subscription_id")
        refusal(await add(http, renew, OTHER), 404, "subscription_id")
        r = await http.post(f"/v1/admin/services/{annual}/reactivate", headers=OPS)
        assert r.status_code == 409 and r.json()["current_status"] == "active"
        r = await http.post(f"/v1/services/{once}/cancellation", headers=ACME)
        assert r.status_code == 409 and r.json()["current_status"] == "completed"
        r = await http.post(f"/v1/services/{annual}/cancellation", headers=ACME)
        assert r.status_code == 200 and (r.json()["cancel_at_period_end"], r.json()["ends_on"]) == (True, "2027-01-31")


async def test_the_renewal_claim_refuses_a_second_live_order_for_a_service_period(migrated_database):
    engine = make_engine(await migrated_database(definition()))
    units = UnitsOfWork(make_sessionmaker(engine), Outbox("orders", FrozenClock(NOW)), to_contract, OrdersUnitOfWork)
    service = uuid.uuid4()

    def renewal(number: str) -> Order:
        line = OrderLine(
            line_id=uuid.uuid4(),
            kind=LineKind.RENEWAL,
            item_id=uuid.uuid4(),
            sku=None,
            name="Hosting",
            cycle="monthly",
            unit_price=Decimal("10.00"),
            amount=Decimal("10.00"),
            currency="EUR",
            subscription_id=service,
            period_start=date(2026, 3, 1),
            period_end=date(2026, 4, 1),
        )
        return Order.place(
            account_id="acme",
            number=number,
            source=Source.RENEWAL,
            lines=[line],
            by="renewals",
            now=NOW,
            placed_on=NOW.date(),
            due_on=date(2026, 3, 1),
        )

    async def place(order: Order) -> None:
        async with units() as uow:
            uow.orders.add(order)
            await uow.commit()

    try:
        first = renewal("ORD-2026-000001")
        await place(first)
        with pytest.raises(PeriodOrdered):
            await place(renewal("ORD-2026-000002"))
        async with units() as uow:
            assert await uow.orders.ordered_periods([service]) == {(service, date(2026, 3, 1))}
            loaded = await uow.orders.get(first.id, for_update=True)
            loaded.cancel("admin", by="ops/olga", now=NOW)
            await uow.commit()
        await place(renewal("ORD-2026-000003"))  # the cancelled order's claim is free again
        async with units() as uow:
            claims = await uow.session.scalar(
                select(func.count()).select_from(OrderLineRow).where(OrderLineRow.claimed_period.is_not(None))
            )
            assert claims == 1 and len(await uow.orders.ordered_periods([service])) == 1
    finally:
        await engine.dispose()
