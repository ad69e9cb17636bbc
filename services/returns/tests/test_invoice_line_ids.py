"""Returns matches invoice lines by their id (PostgreSQL, no broker): the invoice comes as billing
publishes it (InvoiceIssued v2, here for a test-only source kind, so without orders); an RMA line
names the invoice line by `line_id`, and `sku` (the line's description) is still accepted."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from billing.adapters.events import to_contract as billing_contract
from billing.domain.invoices import Invoice, Line, Source
from portal_contracts.events.billing import InvoiceIssued, InvoiceIssuedV2
from portal_runtime.auth import Principal
from portal_runtime.db import make_engine
from portal_runtime.errors import InvalidInput
from portal_runtime.migrations import upgrade
from returns.adapters.events import returnable_invoice
from returns.bootstrap import definition
from returns.domain.rma import ReturnLine
from returns.http.returns import LineIn
from returns.service.invoices import ReturnableInvoices
from returns.service.returns import RequestReturn

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
ACME = Principal("alice", "acme", "customer")


@pytest.fixture
def now():
    return NOW


def published(number="INV-2026-000001") -> tuple[InvoiceIssued, InvoiceIssuedV2]:
    """What billing publishes for an invoice of a test-only source: v1, then v2."""
    invoice = Invoice.issue(
        number=number,
        account_id="acme",
        source=Source("test_only_shop_order", "order-7", date(2026, 3, 1), date(2026, 3, 31)),
        currency="EUR",
        lines=[
            Line("Cable", 3, Decimal("5.00"), sku="CBL-1"),
            Line("Cable", 2, Decimal("6.00"), sku="CBL-2"),  # the same description twice
            Line("Router X1", 1, Decimal("80.00"), sku="RTR-X1"),
        ],
        expected_total=None,
        instructions=[],
        now=NOW,
    )
    [issued] = invoice.events
    v1, v2 = billing_contract(issued)
    return v1, v2


async def record(svc, *events) -> None:
    for event in events:
        await ReturnableInvoices(svc.uow).record(returnable_invoice(event))


def ask(*lines: ReturnLine, number="INV-2026-000001") -> RequestReturn:
    return RequestReturn(invoice_number=number, lines=list(lines))


async def test_rma_lines_name_the_invoice_lines_by_id(svc):
    v1, v2 = published()
    await record(svc, v1, v2)
    cheap, dear, router = (line.line_id for line in v2.lines)
    rma = await svc.request_return(ACME, ask(ReturnLine("", 3, "wrong length", line_id=cheap)))
    [line] = rma.lines
    assert (line.line_id, line.sku, line.quantity) == (cheap, "Cable", 3)
    with pytest.raises(InvalidInput) as used_up:
        await svc.request_return(ACME, ask(ReturnLine("", 1, "again", line_id=cheap)))
    assert used_up.value.field == "lines[0].quantity" and used_up.value.extra["available"] == 0
    # The other "Cable" line is its own line: its 2 are still there.
    other = await svc.request_return(ACME, ask(ReturnLine("", 2, "wrong colour", line_id=dear)))
    assert other.lines[0].line_id == dear
    stored = await svc.get_return(rma.id, ACME)
    assert stored.lines[0].line_id == cheap  # kept with the RMA line
    with pytest.raises(InvalidInput) as unknown:
        await svc.request_return(ACME, ask(ReturnLine("", 1, "x", line_id=uuid.uuid4())))
    assert unknown.value.field == "lines[0].line_id"
    with pytest.raises(InvalidInput) as mismatch:
        await svc.request_return(ACME, ask(ReturnLine("Cable", 1, "x", line_id=router)))
    assert mismatch.value.field == "lines[0].sku"


async def test_the_old_sku_field_still_names_a_line_by_its_description(svc):
    v1, v2 = published()
    await record(svc, v1, v2)
    router = v2.lines[2].line_id
    by_sku = await svc.request_return(ACME, ask(ReturnLine("Router X1", 1, "dead on arrival")))
    assert by_sku.lines[0].line_id == router  # resolved to the line's id: claims count by line
    with pytest.raises(InvalidInput) as claimed:
        await svc.request_return(ACME, ask(ReturnLine("", 1, "again", line_id=router)))
    assert claimed.value.field == "lines[0].quantity"
    with pytest.raises(InvalidInput) as ambiguous:
        await svc.request_return(ACME, ask(ReturnLine("Cable", 1, "which one?")))
    assert ambiguous.value.field == "lines[0].line_id"  # two lines read "Cable": name one by id


async def test_a_version_1_copy_never_replaces_the_line_ids_of_version_2(svc):
    v1, v2 = published()
    await record(svc, v2, v1)  # v1 redelivered after v2
    rma = await svc.request_return(ACME, ask(ReturnLine("", 1, "x", line_id=v2.lines[0].line_id)))
    assert rma.lines[0].line_id == v2.lines[0].line_id


async def test_invoices_known_only_from_version_1_still_match_by_description(svc):
    v1, _ = published("INV-2026-000002")
    await record(svc, v1)
    rma = await svc.request_return(ACME, ask(ReturnLine("Cable", 5, "all of them"), number="INV-2026-000002"))
    assert (rma.lines[0].line_id, rma.lines[0].quantity) == (None, 5)  # both "Cable" lines add up, as before


def test_the_api_takes_line_id_or_sku():
    line_id = uuid.uuid4()
    assert LineIn(line_id=line_id, quantity=1, reason="x").line_id == line_id
    assert LineIn(sku="Cable", quantity=1, reason="x").sku == "Cable"
    with pytest.raises(ValidationError):
        LineIn(quantity=1, reason="x")


async def test_revision_0003_gives_stored_invoices_billings_line_ids(new_database):
    url = await new_database("returns")
    migrations = Path(definition().migrations)
    await asyncio.to_thread(upgrade, migrations, url, "0002")
    engine = make_engine(url)
    invoice_id, rma_id = uuid.uuid4(), uuid.uuid4()
    lines = '[{"description": "Cable", "quantity": 3}, {"description": "Router", "quantity": 1}]'
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO returnable_invoices (invoice_id, number, account_id, lines, issued_at, recorded_at) "
                "VALUES (:id, 'INV-1', 'acme', CAST(:lines AS jsonb), now(), now())"
            ),
            {"id": invoice_id, "lines": lines},
        )
        await conn.execute(
            text(
                "INSERT INTO rmas (id, account_id, invoice_number, status, requested_at, updated_at) "
                "VALUES (:id, 'acme', 'INV-1', 'requested', now(), now())"
            ),
            {"id": rma_id},
        )
        await conn.execute(
            text("INSERT INTO rma_lines (rma_id, position, sku, quantity, reason) VALUES (:id, 0, 'Router', 1, 'x')"),
            {"id": rma_id},
        )
    await asyncio.to_thread(upgrade, migrations, url)
    try:
        async with engine.connect() as conn:
            stored = await conn.scalar(
                text("SELECT lines FROM returnable_invoices WHERE invoice_id = :id"), {"id": invoice_id}
            )
            rma_line = await conn.scalar(text("SELECT line_id FROM rma_lines WHERE rma_id = :id"), {"id": rma_id})
    finally:
        await engine.dispose()

    def billing_id(position: int) -> str:  # as billing's revision 0004 derives it
        import hashlib

        return str(uuid.UUID(hashlib.md5(f"{invoice_id}/line/{position}".encode()).hexdigest()))

    assert stored == [
        {"description": "Cable", "quantity": 3, "sku": None, "line_id": billing_id(1)},
        {"description": "Router", "quantity": 1, "sku": None, "line_id": billing_id(2)},
    ]
    assert str(rma_line) == billing_id(2)
