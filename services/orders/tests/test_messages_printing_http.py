"""On real PostgreSQL and Kafka: an order's thread both ways over HTTP (the customer's user named,
bad bodies refused naming `body` with nothing kept, another account's thread 404, oldest first and
paged, one OrderMessagePosted per post); orders' copy of an order's invoice from billing's events
(told twice: one copy; voided; paid so far) and the printed invoice PDF read back (its lines and
totals, the public note, never the private note; 409 before billing issued it; another account's
404); a page of a view printed as one PDF, one invoice per order in the view's order."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pypdfium2 as pdfium
from sqlalchemy import select
from test_http import inboxed, produce

from orders.adapters.message_tables import InvoiceDocumentRow
from orders.adapters.users_tables import UserRow
from orders.bootstrap import definition
from orders.domain.lines import LineKind, OrderLine
from orders.domain.orders import Order
from orders.service.order_manager import ViewQuery
from orders.service.printing import Issuer, PrintingService
from portal_contracts import Money
from portal_contracts.events.billing import (
    BillTo,
    CreditNoteIssued,
    InvoiceIssuedV2,
    InvoiceLineV2,
    InvoiceVoided,
    PaymentInstruction,
    PaymentReceived,
)
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.testing import bearer, eventually, running_service

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACME, OTHER, OPS = bearer("acme"), bearer("other"), bearer("ops", "admin")
PRIVATE = "Customer is slow to pay: call before shipping"
PUBLIC = "Deliver to gate 3. Teşekkürler, dziękujemy!"
OPS_PRINCIPAL = Principal("admin", "ops", "admin")


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


async def place(rt, account: str = "acme", *, minutes: int = 0, public_note=None, private_note=None) -> Order:
    """An order of goods, placed as a checkout places it (its OrderPlaced in the outbox)."""
    line = OrderLine(
        uuid.uuid4(), LineKind.GOOD, uuid.uuid4(), "PAPER-1", "Paper A4", "one_time",
        Decimal("4.50"), Decimal("13.50"), "EUR", None, None, None, quantity=3,
    )  # fmt: skip
    async with rt.uow() as uow:
        order = Order.place(
            account_id=account,
            number=await uow.orders.next_number(2026),
            source="cart",
            lines=[line],
            by=f"{account}/customer",
            now=NOW + timedelta(minutes=minutes),
            placed_on=NOW.date(),
        )
        order.public_note, order.private_note = public_note, private_note
        uow.orders.add(order)
        await uow.commit()
    return order


def issued(order: Order, number: str) -> InvoiceIssuedV2:
    line = order.lines[0]
    return InvoiceIssuedV2(
        invoice_id=uuid.uuid4(),
        number=number,
        account_id=order.account_id,
        source_kind="order",
        source_id=str(order.id),
        currency="EUR",
        lines=[
            InvoiceLineV2(
                line_id=line.line_id,
                description="Paper A4, 500 sheets",
                item_id=line.item_id,
                sku="PAPER-1",
                quantity=3,
                unit_price=eur("4.50"),
                line_total=eur("13.50"),
                tax_rate=Decimal("0.19"),
                tax=eur("2.57"),
            )
        ],
        total=eur("13.50"),
        tax_total=eur("2.57"),
        due_on=date(2026, 12, 31),
        payment_instructions=[
            PaymentInstruction(
                method="bank_transfer",
                details={"beneficiary": "Portal Commerce Ltd", "iban": "DE89370400440532013000", "reference": number},
            )
        ],
        issued_at=NOW,
        bill_to=BillTo(
            name="Zofia Żółć",
            email="z@acme.test",
            company="Acme Sp. z o.o.",
            line1="ul. Piękna 5",
            postal_code="00-001",
            city="Warszawa",
            country="PL",
        ),  # fmt: skip
    )


def text_of(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    return [" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc))]


async def printed(http, path: str, headers=OPS) -> list[str] | None:
    r = await http.get(path, headers=headers)
    return text_of(r.content) if r.status_code == 200 else None


async def posted(rt) -> list[dict]:
    stmt = select(OutboxRecord).where(OutboxRecord.event_type == "OrderMessagePosted").order_by(OutboxRecord.id)
    async with rt.sessions() as s:
        return [(r.topic, r.envelope["data"]) for r in await s.scalars(stmt)]


async def test_an_orders_thread_both_ways_scoped_paged_and_told(new_database, kafka):
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(NOW)) as (rt, http):
        order = await place(rt)
        async with rt.sessions() as s, s.begin():
            s.add(
                UserRow(
                    id=uuid.uuid4(),
                    account_id="acme",
                    login="customer",
                    name="Ada Kowalska",
                    email="ada@acme.test",
                    language="pl",
                    account_role="buyer",
                    status="active",
                    tokens_valid_from=NOW,
                    created_at=NOW,
                    created_by="acme/admin",
                )  # fmt: skip
            )
        mine = f"/v1/orders/{order.id}/messages"
        admin = f"/v1/admin/orders/{order.id}/messages"

        # bad bodies name `body` and keep nothing; another account's order is 404 as an unknown one
        for body in ["", "   \n ", "x" * 5001]:
            r = await http.post(mine, json={"body": body}, headers=ACME)
            assert r.status_code == 422 and r.json()["field"] == "body", r.text
        r = await http.post(mine, json={"body": "hi", "extra": 1}, headers=ACME)
        assert r.status_code == 400 and "extra" in r.text, r.text
        for path, headers in [(mine, OTHER), (f"/v1/orders/{uuid.uuid4()}/messages", ACME)]:
            assert (await http.post(path, json={"body": "hi"}, headers=headers)).status_code == 404
            assert (await http.get(path, headers=headers)).status_code == 404
        assert (await http.post(admin, json={"body": "hi"}, headers=ACME)).status_code == 403
        assert (await http.get(mine, headers=ACME)).json()["total"] == 0
        assert await posted(rt) == []

        # the customer writes (its user's name), the business answers (no name), the customer again
        r = await http.post(mine, json={"body": "  Can the paper come on Friday?  "}, headers=ACME)
        assert r.status_code == 201, r.text
        first = r.json()
        assert (first["side"], first["author"], first["author_name"], first["body"]) == (
            "customer",
            "acme/customer",
            "Ada Kowalska",
            "Can the paper come on Friday?",
        )
        r = await http.post(admin, json={"body": "Yes, Friday morning."}, headers=OPS)
        assert r.status_code == 201 and r.json()["side"] == "business" and r.json()["author_name"] is None, r.text
        r = await http.post(mine, json={"body": "Dziękuję!"}, headers=bearer("acme", user="jan"))
        assert r.status_code == 201 and r.json()["author_name"] is None  # no users row: no name

        thread = (await http.get(mine, headers=ACME)).json()
        assert thread["total"] == 3
        assert [(m["side"], m["body"]) for m in thread["items"]] == [
            ("customer", "Can the paper come on Friday?"),
            ("business", "Yes, Friday morning."),
            ("customer", "Dziękuję!"),
        ]
        assert (await http.get(admin, headers=OPS)).json()["items"] == thread["items"]
        paged = (await http.get(mine, params={"limit": 1, "offset": 1}, headers=ACME)).json()
        assert [m["body"] for m in paged["items"]] == ["Yes, Friday morning."] and paged["total"] == 3

        told = await posted(rt)
        assert [topic for topic, _ in told] == ["orders.messages"] * 3
        assert [(d["side"], d["author"], d["author_name"], d["number"]) for _, d in told] == [
            ("customer", "acme/customer", "Ada Kowalska", order.number),
            ("business", "ops/admin", None, order.number),
            ("customer", "acme/jan", None, order.number),
        ]
        assert told[0][1]["message_id"] == first["message_id"] and told[0][1]["order_id"] == str(order.id)


async def test_the_invoice_copy_and_the_printed_invoice_of_an_order_and_of_a_view(new_database, kafka):
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(NOW)) as (rt, http):
        order = await place(rt, public_note=PUBLIC, private_note=PRIVATE)
        pdf = f"/v1/orders/{order.id}/invoice.pdf"
        r = await http.get(pdf, headers=ACME)
        assert r.status_code == 409 and "has not issued" in r.json()["detail"], r.text

        # InvoiceIssued v2 told twice (two event ids): one copy, printed
        invoice = issued(order, "INV-2026-000101")
        await produce(kafka, invoice, invoice.model_copy())
        [page] = await eventually(lambda: printed(http, pdf, ACME), timeout=120, what="the invoice's copy in orders")
        for part in [
            "INVOICE",
            "INV-2026-000101",
            f"Order {order.number}",
            "Zofia Żółć",
            "Paper A4, 500 sheets",
            "3 4.50 EUR 19 % 13.50 EUR 2.57 EUR",
            "Net 13.50 EUR",
            "Tax 19 % 2.57 EUR",
            "Total 16.07 EUR",
            "Paid so far 0.00 EUR",
            "Bank transfer",
            "IBAN: DE89370400440532013000",
            PUBLIC,
        ]:
            assert part in page, part
        assert PRIVATE not in page and "slow to pay" not in page and "VOID" not in page
        r = await http.get(pdf, headers=ACME)
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == 'attachment; filename="INV-2026-000101.pdf"'
        assert (await http.get(pdf, headers=OTHER)).status_code == 404
        assert (await http.get(f"/v1/orders/{uuid.uuid4()}/invoice.pdf", headers=ACME)).status_code == 404
        assert await printed(http, pdf, OPS) == [page]  # an admin on the customer's path
        assert await printed(http, f"/v1/admin/orders/{order.id}/invoice.pdf") == [page]
        assert (await http.get(f"/v1/admin/orders/{order.id}/invoice.pdf", headers=ACME)).status_code == 403

        # a part paid, then voided (and the first event told again, late: nothing changes)
        part_paid = PaymentReceived(
            invoice_id=invoice.invoice_id, number=invoice.number, account_id="acme", payment_id=uuid.uuid4(),
            method="bank_transfer", amount=eur("5.00"), amount_paid=eur("5.00"), balance_due=eur("11.07"),
            invoice_status="partially_paid", received_at=NOW + timedelta(minutes=5),
        )  # fmt: skip
        await produce(kafka, part_paid)
        await eventually(
            lambda: _has(http, pdf, "Paid so far 5.00 EUR Balance due 11.07 EUR"), timeout=60, what="paid so far"
        )
        # a return's credit note takes 3.00 off what it owes (told twice: counted once)
        credit = CreditNoteIssued(
            credit_note_id=uuid.uuid4(), number="CN-2026-000009", invoice_id=invoice.invoice_id,
            invoice_number=invoice.number, account_id="acme", source_kind="order", source_id=str(order.id),
            currency="EUR", lines=[], total=eur("3.00"), tax_total=eur("0.00"), reason="returned_goods",
            settlement="credit", refunded=eur("0.00"), credited=eur("0.00"), applied=eur("3.00"),
            issued_at=NOW + timedelta(minutes=5, seconds=30),
        )  # fmt: skip
        await produce(kafka, credit, credit.model_copy())
        await eventually(
            lambda: _has(http, pdf, "Paid so far 5.00 EUR Credited 3.00 EUR Balance due 8.07 EUR"),
            timeout=60,
            what="the credit off the balance due",
        )
        voided = InvoiceVoided(
            invoice_id=invoice.invoice_id, number=invoice.number, account_id="acme", source_kind="order",
            source_id=str(order.id), reason="admin", voided_at=NOW + timedelta(minutes=6),
        )  # fmt: skip
        await produce(kafka, voided, invoice.model_copy())
        await eventually(lambda: _has(http, pdf, "VOID"), timeout=60, what="the voided stamp")
        [envelope] = await produce(kafka, part_paid.model_copy())  # the last event: everything before is applied
        await eventually(lambda: inboxed(rt, envelope.event_id), timeout=60, what="the late events applied")
        [page] = await printed(http, pdf, ACME)
        assert "VOID" in page and "do not pay" in page and "Paid so far 5.00 EUR Credited 3.00 EUR" in page
        async with rt.sessions() as s:
            rows = list(await s.scalars(select(InvoiceDocumentRow)))
        assert [(r.number, r.status, r.amount_paid) for r in rows] == [("INV-2026-000101", "voided", Decimal("5.00"))]
        assert rows[0].payload["lines"][0]["description"] == "Paper A4, 500 sheets"

        # a page of a view: three more orders, two of them invoiced; newest first, the un-invoiced left out
        later = [await place(rt, minutes=m) for m in (10, 20, 30)]
        second, third = issued(later[0], "INV-2026-000102"), issued(later[2], "INV-2026-000104")
        await produce(kafka, second, third)
        views = "/v1/admin/orders/invoices.pdf?account_id=acme&limit=3"
        pages = await eventually(lambda: _pages(http, views, 2), timeout=60, what="both invoices in orders' copy")
        assert ["INV-2026-000104" in pages[0], "INV-2026-000102" in pages[1]] == [True, True]
        r = await http.get(views, headers=OPS)
        assert r.headers["content-disposition"] == 'attachment; filename="invoices-all-1-3.pdf"'
        every = await _pages(http, "/v1/admin/orders/invoices.pdf?account_id=acme", 3)
        assert [next(n for n in ("000104", "000102", "000101") if n in p) for p in every] == [
            "000104",
            "000102",
            "000101",
        ]
        assert PRIVATE not in " ".join(every)
        none = await http.get(
            "/v1/admin/orders/invoices.pdf", params={"account_id": "acme", "offset": 1, "limit": 1}, headers=OPS
        )
        assert none.status_code == 409, none.text  # later[1]: no invoice
        assert (
            await http.get("/v1/admin/orders/invoices.pdf", params={"account_id": "other"}, headers=OPS)
        ).status_code == 409
        bad = await http.get(
            "/v1/admin/orders/invoices.pdf",
            params={"placed_from": "2026-12-02", "placed_to": "2026-12-01"},
            headers=OPS,
        )
        assert bad.status_code == 422 and bad.json()["field"] == "placed_from", bad.text
        assert (await http.get("/v1/admin/orders/invoices.pdf", headers=ACME)).status_code == 403

        # the use case against any views (a fake one): the view's order is the PDF's order
        class Views:
            async def list(self, admin, query, page):
                assert query == ViewQuery(view="unpaid") and page == PageRequest(2, 0)
                return Slice([_View(later[2]), _View(later[1]), _View(order)], 3, 2, 0)

        printing = PrintingService(rt.uow, UTC, Issuer("Issuer GmbH", ("Hauptstraße 1", "10115 Berlin")), Views())
        done = await printing.view_invoices(OPS_PRINCIPAL, ViewQuery(view="unpaid"), PageRequest(2, 0))
        assert done.invoices == ("INV-2026-000104", "INV-2026-000101")
        assert all("Issuer GmbH" in p and "Hauptstraße 1" in p for p in text_of(done.content))


class _View:
    def __init__(self, order: Order) -> None:
        self.order = order


async def _has(http, path: str, text: str) -> bool:
    found = await printed(http, path, ACME)
    return bool(found) and text in found[0]


async def _pages(http, path: str, want: int) -> list[str] | None:
    found = await printed(http, path)
    return found if found is not None and len(found) == want else None
