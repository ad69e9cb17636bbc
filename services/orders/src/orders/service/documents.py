"""Every document issued to a customer, in one place, each as a PDF: quotes when sent (QuoteSent),
goods issues (OrderShipped), invoices (InvoiceIssued v2; a tax invoice beside it when a line is taxed:
same number, the tax per rate), goods receipts (GoodsReceived), credit notes (CreditNoteIssued) and
reconciliation statements (StatementIssued).

A document is written from the contract event that tells it: orders' own events as its unit of work
stages them (`OrdersUnitOfWork`), the others' by their consumers. Its id is uuid5 of the kind and the
source's id: an event told twice writes once. Another account's document is 404."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from orders.adapters.document_tables import DocumentRow
from orders.printing.documents import PrintedDocument, render_document
from orders.printing.invoice import Instruction, PrintedInvoice, PrintedLine, day, money, percent, render
from orders.service.printing import Issuer, _bill_to
from portal_contracts import Event
from portal_contracts.events import billing, orders, returns
from portal_runtime.auth import Principal
from portal_runtime.clock import business_date
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitsOfWork

NAMESPACE = uuid.UUID("5d0c1f7e-6f1a-4c57-9a51-0d2b6c0e1f16")


class Kind(StrEnum):
    QUOTE = "quote"
    GOODS_ISSUE = "goods_issue"
    INVOICE = "invoice"
    TAX_INVOICE = "tax_invoice"
    GOODS_RECEIPT = "goods_receipt"
    CREDIT_NOTE = "credit_note"
    RECONCILIATION_STATEMENT = "reconciliation_statement"


TITLES = {
    Kind.QUOTE: "QUOTE",
    Kind.GOODS_ISSUE: "GOODS ISSUE",
    Kind.INVOICE: "INVOICE",
    Kind.TAX_INVOICE: "TAX INVOICE",
    Kind.GOODS_RECEIPT: "GOODS RECEIPT",
    Kind.CREDIT_NOTE: "CREDIT NOTE",
    Kind.RECONCILIATION_STATEMENT: "RECONCILIATION STATEMENT",
}


def document_id(kind: str, source_id: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{source_id}")


@dataclass(frozen=True)
class Document:
    id: uuid.UUID
    account_id: str
    kind: Kind
    number: str
    issued_at: datetime
    title: str
    amount: Decimal | None
    currency: str | None
    body: dict
    source_id: str


def _doc(kind: Kind, source: object, account_id: str, number: str, at: datetime, title: str, event: Event, money_=None):
    amount, currency = (Decimal(money_.amount), money_.currency) if money_ is not None else (None, None)
    return Document(
        document_id(kind, source),
        account_id,
        kind,
        number,
        at,
        title,
        amount,
        currency,
        event.model_dump(mode="json"),
        str(source),
    )


def documents_of(event: object) -> list[Document]:
    """The documents a contract event issues (none for most)."""
    match event:
        case orders.QuoteSent():
            return [
                _doc(
                    Kind.QUOTE,
                    event.quote_id,
                    event.account_id,
                    event.number,
                    event.sent_at,
                    f"Quote {event.number}",
                    event,
                    event.total,
                )
            ]
        case orders.OrderShipped():
            return [
                _doc(
                    Kind.GOODS_ISSUE,
                    event.shipment_id,
                    event.account_id,
                    event.shipment_number,
                    event.shipped_at,
                    f"Goods issue {event.shipment_number} (order {event.number})",
                    event,
                )
            ]
        case billing.InvoiceIssuedV2():
            found = [
                _doc(
                    Kind.INVOICE,
                    event.invoice_id,
                    event.account_id,
                    event.number,
                    event.issued_at,
                    f"Invoice {event.number}",
                    event,
                    event.total,
                )
            ]
            if any(Decimal(line.tax_rate) > 0 for line in event.lines):
                found.append(
                    _doc(
                        Kind.TAX_INVOICE,
                        event.invoice_id,
                        event.account_id,
                        event.number,
                        event.issued_at,
                        f"Tax invoice {event.number}",
                        event,
                        event.total,
                    )
                )
            return found
        case returns.GoodsReceived():
            return [
                _doc(
                    Kind.GOODS_RECEIPT,
                    event.receipt_id,
                    event.account_id,
                    event.number,
                    event.received_at,
                    f"Goods receipt {event.number} (return {event.rma_number})",
                    event,
                )
            ]
        case billing.CreditNoteIssued():
            return [
                _doc(
                    Kind.CREDIT_NOTE,
                    event.credit_note_id,
                    event.account_id,
                    event.number,
                    event.issued_at,
                    f"Credit note {event.number} (invoice {event.invoice_number})",
                    event,
                    event.total,
                )
            ]
        case billing.StatementIssued():
            return [
                _doc(
                    Kind.RECONCILIATION_STATEMENT,
                    event.statement_id,
                    event.account_id,
                    event.number,
                    event.issued_at,
                    f"Reconciliation statement {event.number}",
                    event,
                    event.closing_balance,
                )
            ]
    return []


def row_of(d: Document) -> dict:
    return {
        "id": d.id,
        "account_id": d.account_id,
        "kind": str(d.kind),
        "number": d.number,
        "issued_at": d.issued_at,
        "title": d.title,
        "amount": d.amount,
        "currency": d.currency,
        "body": d.body,
        "source_id": d.source_id,
    }


def _document(r: DocumentRow) -> Document:
    return Document(
        r.id, r.account_id, Kind(r.kind), r.number, r.issued_at, r.title, r.amount, r.currency, r.body, r.source_id
    )


@dataclass(frozen=True)
class Pdf:
    filename: str
    content: bytes


class DocumentService:
    def __init__(self, uow: UnitsOfWork, tz: tzinfo, issuer: Issuer) -> None:
        self.uow = uow
        self.tz = tz
        self.issuer = issuer

    async def record(self, event: object) -> int:
        """Keep the documents the event issues (joins the consumer's unit of work); how many were new."""
        new = 0
        async with self.uow() as uow:
            for d in documents_of(event):
                done = await uow.session.scalar(
                    insert(DocumentRow).values(**row_of(d)).on_conflict_do_nothing().returning(DocumentRow.id)
                )
                new += done is not None
            await uow.commit()
        return new

    async def voided(self, invoice_id: uuid.UUID) -> None:
        """The invoice (and its tax invoice) print VOID from now on."""
        ids = [document_id(Kind.INVOICE, invoice_id), document_id(Kind.TAX_INVOICE, invoice_id)]
        async with self.uow() as uow:
            await uow.session.execute(
                update(DocumentRow)
                .where(DocumentRow.id.in_(ids))
                .values(body=DocumentRow.body.op("||")(_json({"voided": True})))
            )
            await uow.commit()

    async def list(
        self, actor: Principal, page: PageRequest, *, kind: str | None = None, account_id: str | None = None
    ) -> Slice[Document]:
        if kind is not None and kind not in set(Kind):
            raise InvalidInput(f"kind is one of {', '.join(Kind)}", field="kind")
        scope = actor.scope(account_id)
        stmt = select(DocumentRow)
        if scope.account_id is not None:
            stmt = stmt.where(DocumentRow.account_id == scope.account_id)
        if kind is not None:
            stmt = stmt.where(DocumentRow.kind == kind)
        stmt = stmt.order_by(DocumentRow.issued_at.desc(), DocumentRow.kind, DocumentRow.id)
        async with self.uow() as uow:
            rows, total = await fetch_page(uow.session, stmt, page)
            found = [_document(r) for r in rows]
        return Slice(found, total, page.limit, page.offset)

    async def get(self, actor: Principal, document_id_: uuid.UUID) -> Document:
        async with self.uow() as uow:
            row = await uow.session.get(DocumentRow, document_id_)
            found = None if row is None else _document(row)
        if found is None or not actor.owns(found.account_id):
            raise NotFound(f"no document {document_id_}", field="document_id")
        return found

    async def pdf(self, actor: Principal, document_id_: uuid.UUID) -> Pdf:
        d = await self.get(actor, document_id_)
        return Pdf(f"{d.number}.pdf", await asyncio.to_thread(self.render, d))

    def render(self, d: Document) -> bytes:
        if d.kind == Kind.INVOICE:
            return render([self._invoice(d)])
        return render_document(self.printed(d))

    def _invoice(self, d: Document) -> PrintedInvoice:
        b = d.body
        return PrintedInvoice(
            issuer_name=self.issuer.name,
            issuer_address=self.issuer.address,
            number=d.number,
            issued_on=business_date(d.issued_at, self.tz),
            due_on=date.fromisoformat(b["due_on"]),
            order_number=f"{b['source_kind']} {b['source_id']}",
            account_id=d.account_id,
            currency=b["currency"],
            lines=tuple(_line(line) for line in b["lines"]),
            bill_to=_bill_to(b.get("bill_to")),
            instructions=tuple(Instruction(i["method"], dict(i["details"])) for i in b.get("payment_instructions", [])),
            voided=bool(b.get("voided")),
        )

    def printed(self, d: Document) -> PrintedDocument:
        b, on = d.body, business_date(d.issued_at, self.tz)
        base = {"issuer_name": self.issuer.name, "issuer_address": self.issuer.address, "title": TITLES[d.kind]}
        facts: list[tuple[str, str]] = [("Number", d.number), ("Date", day(on)), ("Customer account", d.account_id)]
        cur = b.get("currency") or d.currency or ""
        match d.kind:
            case Kind.QUOTE:
                facts.append(("Valid until", day(date.fromisoformat(b["valid_until"]))))
                rows = [(ln["name"], str(ln["quantity"]), _m(ln["unit_price"]), _m(ln["amount"])) for ln in b["lines"]]
                return PrintedDocument(
                    **base,
                    number=d.number,
                    facts=tuple(facts),
                    columns=("Description", "Qty", "Unit price", "Amount"),
                    rows=tuple(rows),
                    totals=(("Total", _m(b["total"])),),
                    note=b.get("note") or None,
                )
            case Kind.GOODS_ISSUE:
                facts += [("Order", b["number"]), ("Carrier", b["carrier"]), ("Tracking number", b["tracking_number"])]
                rows = [(ln["name"], ln.get("sku") or "", str(ln["quantity"])) for ln in b["lines"]]
                return PrintedDocument(
                    **base,
                    number=d.number,
                    facts=tuple(facts),
                    columns=("Description", "SKU", "Quantity"),
                    rows=tuple(rows),
                )
            case Kind.TAX_INVOICE:
                facts += [("Due date", day(date.fromisoformat(b["due_on"])))]
                lines = [_line(ln) for ln in b["lines"]]
                rows = [
                    (
                        ln.description,
                        str(ln.quantity),
                        money(ln.unit_price, cur),
                        percent(ln.tax_rate),
                        money(ln.net, cur),
                        money(ln.tax, cur),
                    )
                    for ln in lines
                ]
                by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
                for ln in lines:
                    net, tax = by_rate.get(ln.tax_rate.normalize(), (Decimal("0.00"), Decimal("0.00")))
                    by_rate[ln.tax_rate.normalize()] = (net + ln.net, tax + ln.tax)
                totals = [
                    (f"Tax {percent(rate)}: net {money(net, cur)}", money(tax, cur))
                    for rate, (net, tax) in sorted(by_rate.items())
                ]
                totals += [("Tax total", _m(b["tax_total"])), ("Total", _m(b["total"]))]
                return PrintedDocument(
                    **base,
                    number=d.number,
                    facts=tuple(facts),
                    columns=("Description", "Qty", "Unit price", "Rate", "Net", "Tax"),
                    rows=tuple(rows),
                    totals=tuple(totals),
                    note="VOID" if b.get("voided") else None,
                )
            case Kind.GOODS_RECEIPT:
                facts += [
                    ("Return", b["rma_number"]),
                    ("Invoice", b["invoice_number"]),
                    ("Resolution", b["resolution"]),
                ]
                rows = [(ln["description"], str(ln["quantity"])) for ln in b["lines"]]
                return PrintedDocument(
                    **base,
                    number=d.number,
                    facts=tuple(facts),
                    columns=("Description", "Quantity received"),
                    rows=tuple(rows),
                )
            case Kind.CREDIT_NOTE:
                facts += [("Invoice", b["invoice_number"]), ("Reason", b["reason"].replace("_", " "))]
                if b.get("receipt_number"):
                    facts.append(("Goods receipt", b["receipt_number"]))
                rows = [
                    (
                        ln["description"],
                        str(ln["quantity"]),
                        _m(ln["unit_price"]),
                        percent(Decimal(ln["tax_rate"])),
                        _m(ln["line_total"]),
                        _m(ln["tax"]),
                    )
                    for ln in b["lines"]
                ]
                net = Decimal(b["total"]["amount"]) - Decimal(b["tax_total"]["amount"])
                totals = [("Net", money(net, cur)), ("Tax", _m(b["tax_total"])), ("Total", _m(b["total"]))]
                if b.get("applied"):
                    totals.append(("Taken off the invoice", _m(b["applied"])))
                totals += [("Refunded", _m(b["refunded"])), ("Credited to the account", _m(b["credited"]))]
                return PrintedDocument(
                    **base,
                    number=d.number,
                    facts=tuple(facts),
                    columns=("Description", "Qty", "Unit price", "Rate", "Net", "Tax"),
                    rows=tuple(rows),
                    totals=tuple(totals),
                )
            case Kind.RECONCILIATION_STATEMENT:
                start, end = date.fromisoformat(b["period_start"]), date.fromisoformat(b["period_end"])
                facts += [("Currency", cur), ("Period", f"{day(start)} – {day(end)}")]
                totals = (
                    ("Opening balance", _m(b["opening_balance"])),
                    ("Debits", _m(b["debits"])),
                    ("Credits", _m(b["credits"])),
                    ("Closing balance", _m(b["closing_balance"])),
                )
                note = "Please confirm this statement, or dispute it with a note, in the portal."
                return PrintedDocument(**base, number=d.number, facts=tuple(facts), totals=totals, note=note)
        raise ValueError(f"no printing for {d.kind}")


def _m(value: dict) -> str:
    return money(Decimal(value["amount"]), value["currency"])


def _line(line: dict) -> PrintedLine:
    return PrintedLine(
        description=line["description"],
        quantity=int(line["quantity"]),
        unit_price=Decimal(line["unit_price"]["amount"]),
        tax_rate=Decimal(line.get("tax_rate") or "0"),
        net=Decimal(line["line_total"]["amount"]),
        tax=Decimal((line.get("tax") or {}).get("amount", "0")),
        sku=line.get("sku"),
    )


def _json(value: dict):
    from sqlalchemy import cast
    from sqlalchemy.dialects.postgresql import JSONB

    return cast(value, JSONB)


def kinds() -> Iterable[str]:
    return [str(k) for k in Kind]
