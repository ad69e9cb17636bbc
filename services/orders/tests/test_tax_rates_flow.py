"""Tax rates from the catalog to the invoice (issue 16), with catalog, orders and billing running for
real on Kafka and PostgreSQL: an admin gives goods a tax rate in the catalog; orders' copy keeps it; a
checked-out order's lines record it and the order shows `tax_total` and `total_with_tax`; billing's
invoice of the order has the ORDER's line ids, each line's tax at its rate, and the gross total,
which orders' copy of the invoice holds too."""

from __future__ import annotations

import uuid

from test_client_area_http import add

from billing.bootstrap import definition as billing
from catalog.bootstrap import definition as catalog
from orders.adapters.tables import OrderInvoiceRow
from orders.bootstrap import definition as orders
from portal_runtime.testing import bearer, eventually, running_service

ADMIN = bearer("ops", "admin")


def good(sku: str, name: str, price: str, rate: str | None) -> dict:
    body = {
        "sku": sku,
        "name": name,
        "kind": "good",
        "currency": "EUR",
        "prices": [{"cycle": "one_time", "price": price}],
    }
    return body if rate is None else {**body, "tax_rate": rate}


async def test_a_taxed_order_is_invoiced_with_its_line_ids_tax_and_gross_total(new_database, kafka):
    account = f"acct-{uuid.uuid4().hex[:8]}"
    customer = bearer(account)
    tag = uuid.uuid4().hex[:6]
    async with (
        running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka) as (_, cat),
        running_service(orders(), database_url=await new_database("orders"), kafka=kafka) as (ords, http),
        running_service(billing(), database_url=await new_database("billing"), kafka=kafka) as (_, bill),
    ):
        items = []
        for body in (
            good(f"PAPER-{tag}", "Paper A4", "4.50", "0.19"),
            good(f"BOOK-{tag}", "Book", "9.99", "0.07"),
            good(f"TONER-{tag}", "Toner", "20.00", None),
        ):
            made = await cat.post("/v1/admin/items", json=body, headers=ADMIN)
            assert made.status_code == 201, made.text
            items.append(made.json())
        paper, book, toner = items
        for item, quantity in ((paper, 3), (book, 1), (toner, 1)):
            line = {"kind": "good", "item_id": item["id"], "quantity": quantity}
            assert (await add(http, line, customer)).status_code == 201
        placed = await http.post("/v1/cart/checkout", headers={**customer, "Idempotency-Key": f"tax-{tag}"})
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert [(x["sku"], x["amount"], x["tax_rate"]) for x in order["lines"]] == [
            (f"PAPER-{tag}", "13.50", "0.19"),
            (f"BOOK-{tag}", "9.99", "0.07"),
            (f"TONER-{tag}", "20.00", None),
        ]
        # 13.50 × 0.19 = 2.565 → 2.57; 9.99 × 0.07 = 0.6993 → 0.70
        assert (order["total"], order["tax_total"], order["total_with_tax"]) == ("43.49", "3.27", "46.76")

        async def invoiced():
            page = (await bill.get("/v1/invoices", headers=customer)).json()
            return page["items"] or None

        [summary] = await eventually(invoiced, timeout=90, what="billing's invoice of the taxed order")
        invoice = (await bill.get(f"/v1/invoices/{summary['id']}", headers=customer)).json()
        assert (invoice["source_id"], invoice["net_total"], invoice["tax_total"], invoice["total"]) == (
            order["order_id"],
            "43.49",
            "3.27",
            "46.76",
        )
        assert invoice["balance_due"] == "46.76"
        assert [(x["line_id"], x["tax_rate"], x["line_total"], x["tax_amount"]) for x in invoice["lines"]] == [
            (order["lines"][0]["line_id"], "0.19", "13.50", "2.57"),
            (order["lines"][1]["line_id"], "0.07", "9.99", "0.70"),
            (order["lines"][2]["line_id"], "0.00", "20.00", "0.00"),
        ]

        async def copied():
            async with ords.sessions() as s:
                return await s.get(OrderInvoiceRow, uuid.UUID(invoice["id"]))

        row = await eventually(copied, timeout=90, what="orders' copy of the invoice")
        assert format(row.total, "f") == "46.76"  # what the order owes is the invoice's gross total
        shown = (await http.get(f"/v1/orders/{order['order_id']}", headers=customer)).json()
        assert (shown["invoice_id"], shown["total_with_tax"]) == (invoice["id"], "46.76")
