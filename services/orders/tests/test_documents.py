"""The customer's documents: what each contract event issues (a tax invoice beside an invoice with a
taxed line; none beside an untaxed one), each PDF read back as text (pypdfium2); and on real
PostgreSQL and Kafka: billing's and returns' events told twice keep one document each, listed newest
first by kind, each downloadable by its owner as a PDF; another account gets 404 and an empty list;
an unknown kind is 422 naming `kind`."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from test_http import inboxed, produce
from test_messages_printing_http import eur, issued, place, text_of

from orders.bootstrap import definition
from orders.service.documents import DocumentService, Kind, document_id, documents_of
from orders.service.printing import Issuer
from portal_contracts.events.billing import CreditNoteIssued, CreditNoteLine, InvoiceVoided, StatementIssued
from portal_contracts.events.orders import OrderShipped, QuoteLine, QuoteSent, ShippedLine
from portal_contracts.events.returns import GoodsReceived, ReceivedLine
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, eventually, running_service

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACME, OTHER, OPS = bearer("acme"), bearer("other"), bearer("ops", "admin")
SERVICE = DocumentService(None, UTC, Issuer("Portal Commerce Ltd", ("1 Main St",)))  # type: ignore[arg-type]


def pdf_text(event) -> dict[str, str]:
    return {str(d.kind): " ".join(text_of(SERVICE.render(d))) for d in documents_of(event)}


def quote() -> QuoteSent:
    line = QuoteLine(
        line_id=uuid.uuid4(), item_id=uuid.uuid4(), sku="SAW-1", name="Band saw", cycle="one_time", quantity=2,
        unit_price=eur("100.00"), amount=eur("200.00"),
    )  # fmt: skip
    return QuoteSent(
        quote_id=uuid.uuid4(), number="Q-2026-000007", account_id="acme", currency="EUR", lines=[line],
        total=eur("200.00"), valid_until=date(2026, 12, 31), note="Delivery in 2 weeks", sent_by="ops",
        sent_at=NOW,
    )  # fmt: skip


def shipped() -> OrderShipped:
    line = ShippedLine(
        line_id=uuid.uuid4(), item_id=uuid.uuid4(), sku="PAPER-1", name="Paper A4", quantity=2, ordered=3,
        shipped=2, awaiting=1,
    )  # fmt: skip
    return OrderShipped(
        order_id=uuid.uuid4(), number="SO-000012", account_id="acme", shipment_id=uuid.uuid4(),
        shipment_number="SO-000012-1", carrier="DHL", tracking_number="JD0001", lines=[line],
        shipping_status="partially_shipped", shipped_by="ops", shipped_at=NOW,
    )  # fmt: skip


def test_a_quote_and_a_goods_issue_print_as_documents():
    q = pdf_text(quote())
    assert list(q) == ["quote"]
    for part in [
        "QUOTE",
        "Q-2026-000007",
        "Band saw",
        "2 100.00 EUR 200.00 EUR",
        "Total 200.00 EUR",
        "31 December 2026",
    ]:
        assert part in q["quote"], part
    g = pdf_text(shipped())
    for part in ["GOODS ISSUE", "SO-000012-1", "Order SO-000012", "DHL", "JD0001", "Paper A4 PAPER-1 2"]:
        assert part in g["goods_issue"], part


def test_a_taxed_invoice_has_a_tax_invoice_and_an_untaxed_one_not():
    class Placed:  # what `issued` reads of an order
        id, account_id = uuid.uuid4(), "acme"
        lines = [type("L", (), {"line_id": uuid.uuid4(), "item_id": uuid.uuid4()})()]

    taxed = issued(Placed, "INV-2026-000201")
    texts = pdf_text(taxed)
    assert set(texts) == {"invoice", "tax_invoice"}
    assert "INVOICE" in texts["invoice"] and "TAX INVOICE" not in texts["invoice"]
    for part in ["TAX INVOICE", "INV-2026-000201", "Tax 19 %: net 13.50 EUR 2.57 EUR", "Tax total 2.57 EUR"]:
        assert part in texts["tax_invoice"], part
    line = taxed.lines[0].model_copy(update={"tax_rate": Decimal("0"), "tax": eur("0.00")})
    untaxed = taxed.model_copy(update={"lines": [line], "tax_total": eur("0.00")})
    assert [d.kind for d in documents_of(untaxed)] == [Kind.INVOICE]
    assert {d.id for d in documents_of(taxed)} == {
        document_id("invoice", taxed.invoice_id),
        document_id("tax_invoice", taxed.invoice_id),
    }


def receipt(invoice) -> GoodsReceived:
    return GoodsReceived(
        receipt_id=uuid.uuid4(), number="GR-2026-000001", rma_id=uuid.uuid4(), rma_number="RMA-2026-000001",
        account_id="acme", invoice_id=invoice.invoice_id, invoice_number=invoice.number, resolution="credit",
        lines=[ReceivedLine(invoice_line_id=invoice.lines[0].line_id, description="Paper A4, 500 sheets", quantity=1)],
        rma_status="partly_received", received_by="ops", received_at=NOW + timedelta(minutes=1),
    )  # fmt: skip


def credit_note(invoice, gr: GoodsReceived) -> CreditNoteIssued:
    line = CreditNoteLine(
        line_id=uuid.uuid4(), invoice_line_id=invoice.lines[0].line_id, description="Paper A4, 500 sheets",
        quantity=1, unit_price=eur("4.50"), line_total=eur("4.50"), tax_rate=Decimal("0.19"), tax=eur("0.86"),
    )  # fmt: skip
    return CreditNoteIssued(
        credit_note_id=uuid.uuid4(), number="CN-2026-000001", invoice_id=invoice.invoice_id,
        invoice_number=invoice.number, account_id="acme", source_kind="order", source_id=invoice.source_id,
        currency="EUR", lines=[line], total=eur("5.36"), tax_total=eur("0.86"), reason="returned_goods",
        settlement="credit", refunded=eur("0.00"), credited=eur("0.00"), applied=eur("5.36"),
        issued_at=NOW + timedelta(minutes=2), rma_id=gr.rma_id, receipt_id=gr.receipt_id,
        receipt_number=gr.number,
    )  # fmt: skip


def statement() -> StatementIssued:
    return StatementIssued(
        statement_id=uuid.uuid4(), number="ST-2026-000001", account_id="acme", currency="EUR",
        period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), opening_balance=eur("0.00"),
        debits=eur("16.07"), credits=eur("5.36"), closing_balance=eur("10.71"), issued_by="ops",
        issued_at=NOW + timedelta(minutes=3),
    )  # fmt: skip


async def _listed(http, headers, want: int, query: str = "") -> list[dict] | None:
    r = await http.get(f"/v1/account/documents{query}", headers=headers)
    items = r.json()["items"] if r.status_code == 200 else []
    return items if len(items) >= want else None


async def test_documents_from_events_listed_downloaded_and_scoped(new_database, kafka):
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(NOW)) as (rt, http):
        order = await place(rt)
        invoice = issued(order, "INV-2026-000301")
        gr = receipt(invoice)
        cn, st = credit_note(invoice, gr), statement()
        for event in (invoice, gr, cn, st):  # each told twice
            await produce(kafka, event, event.model_copy())
        items = await eventually(lambda: _listed(http, ACME, 5), timeout=120, what="the documents")
        [last] = await produce(kafka, st.model_copy())
        await eventually(lambda: inboxed(rt, last.event_id), timeout=60, what="every event applied")
        items = (await http.get("/v1/account/documents", headers=ACME)).json()
        assert items["total"] == 5
        kinds = [i["kind"] for i in items["items"]]
        assert kinds == ["reconciliation_statement", "credit_note", "goods_receipt", "invoice", "tax_invoice"]
        by_kind = {i["kind"]: i for i in items["items"]}
        assert by_kind["invoice"]["amount"] == {"amount": "13.50", "currency": "EUR"}
        assert by_kind["credit_note"]["amount"] == {"amount": "5.36", "currency": "EUR"}
        assert by_kind["goods_receipt"]["amount"] is None
        expected = {
            "invoice": ["INVOICE", "INV-2026-000301", "Paper A4, 500 sheets"],
            "tax_invoice": ["TAX INVOICE", "INV-2026-000301", "Tax 19 %: net 13.50 EUR 2.57 EUR"],
            "goods_receipt": ["GOODS RECEIPT", "GR-2026-000001", "RMA-2026-000001", "Paper A4, 500 sheets 1"],
            "credit_note": ["CREDIT NOTE", "CN-2026-000001", "1 4.50 EUR 19 % 4.50 EUR 0.86 EUR", "Total 5.36 EUR"],
            "reconciliation_statement": ["RECONCILIATION STATEMENT", "ST-2026-000001", "Closing balance 10.71 EUR"],
        }
        for kind, parts in expected.items():
            item = by_kind[kind]
            assert item["pdf_url"] == f"/v1/account/documents/{item['document_id']}/pdf"
            r = await http.get(item["pdf_url"], headers=ACME)
            assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
            assert r.headers["content-disposition"] == f'attachment; filename="{item["number"]}.pdf"'
            text = " ".join(text_of(r.content))
            for part in parts:
                assert part in text, (kind, part)
            assert (await http.get(item["pdf_url"], headers=OTHER)).status_code == 404
            assert (await http.get(f"/v1/account/documents/{item['document_id']}", headers=OTHER)).status_code == 404
            assert (await http.get(f"/v1/account/documents/{item['document_id']}", headers=ACME)).json() == item
        assert (await http.get("/v1/account/documents", headers=OTHER)).json()["items"] == []
        assert (await http.get("/v1/account/documents?account_id=acme", headers=OTHER)).json()["items"] == []
        assert [
            i["kind"] for i in (await http.get("/v1/account/documents?kind=credit_note", headers=ACME)).json()["items"]
        ] == ["credit_note"]
        assert (await http.get("/v1/account/documents?account_id=acme", headers=OPS)).json()["total"] == 5
        r = await http.get("/v1/account/documents?kind=letters", headers=ACME)
        assert r.status_code == 400 and "kind" in r.text, r.text  # the query parameter's enum (as quotes' status)

        voided = InvoiceVoided(
            invoice_id=invoice.invoice_id, number=invoice.number, account_id="acme", source_kind="order",
            source_id=str(order.id), reason="admin", voided_at=NOW + timedelta(minutes=6),
        )  # fmt: skip
        await produce(kafka, voided)

        async def void_printed() -> bool:
            r = await http.get(by_kind["invoice"]["pdf_url"], headers=ACME)
            return "VOID" in " ".join(text_of(r.content))

        await eventually(void_printed, timeout=60, what="the void stamp")

        # orders' own documents are written as its unit of work stages their events (a quote sent, a goods issue)
        sent, went = quote(), shipped()
        async with rt.uow() as uow:
            uow.publish(sent)
            uow.publish(went)
            await uow.commit()
        assert (await http.get("/v1/account/documents", headers=ACME)).json()["total"] == 7
        for kind, title in [("quote", "QUOTE"), ("goods_issue", "GOODS ISSUE")]:
            [item] = (await http.get(f"/v1/account/documents?kind={kind}", headers=ACME)).json()["items"]
            text = " ".join(text_of((await http.get(item["pdf_url"], headers=ACME)).content))
            assert title in text and item["number"] in text
