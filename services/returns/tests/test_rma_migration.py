"""Revision 0005 (RMA lifecycle) on PostgreSQL: the tables it makes are the ones the models describe,
and the RMAs there were before it get their numbers, invoice id, problem and received quantities."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

from portal_runtime.db import make_engine
from portal_runtime.migrations import alembic_config, upgrade
from portal_runtime.testing import schema_drift
from returns.adapters.tables import Base
from returns.bootstrap import definition


async def test_migrations_make_the_tables_the_models_describe(migrated_database):
    found = await schema_drift(await migrated_database(definition()), Base.metadata)
    # user_access and the job tables belong to the runtime's own migrations helpers
    assert [d for d in found if not (isinstance(d, tuple) and d[0] == "remove_table")] == []
    assert {d[1].name for d in found if isinstance(d, tuple)} <= {"user_access", "job_runs", "test_clock"}


async def test_revision_0005_numbers_the_rmas_there_were_and_keeps_what_they_hold(new_database):
    url = await new_database("returns")
    migrations = Path(definition().migrations)
    await asyncio.to_thread(upgrade, migrations, url, "0004")
    engine = make_engine(url)
    invoice_id = uuid.uuid4()
    older, newer, last_year = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO returnable_invoices (invoice_id, number, account_id, lines, issued_at, recorded_at) "
                "VALUES (:id, 'INV-1', 'acme', CAST(:lines AS jsonb), now(), now())"
            ),
            {"id": invoice_id, "lines": '[{"description": "Router", "quantity": 5, "line_id": null, "sku": null}]'},
        )
        for rma_id, status, at in (
            (newer, "received", datetime(2026, 3, 2, tzinfo=UTC)),
            (older, "requested", datetime(2026, 3, 1, tzinfo=UTC)),
            (last_year, "rejected", datetime(2025, 12, 31, tzinfo=UTC)),
        ):
            await conn.execute(
                text(
                    "INSERT INTO rmas (id, account_id, invoice_number, status, requested_at, updated_at) "
                    "VALUES (:id, 'acme', 'INV-1', :status, :at, :at)"
                ),
                {"id": rma_id, "status": status, "at": at},
            )
            if status == "received":
                await conn.execute(
                    text(
                        "INSERT INTO rma_history (rma_id, from_status, to_status, actor, at) "
                        "VALUES (:id, 'requested', 'approved', 'ops', :at)"
                    ),
                    {"id": rma_id, "at": at},
                )
            for position, reason in enumerate(("broken", "scratched")):
                await conn.execute(
                    text(
                        "INSERT INTO rma_lines (rma_id, position, sku, quantity, reason) "
                        "VALUES (:id, :p, :sku, 1, :reason)"
                    ),
                    {"id": rma_id, "p": position, "sku": f"Router {position}", "reason": reason},
                )
    await asyncio.to_thread(upgrade, migrations, url)
    try:
        async with engine.connect() as conn:
            rows = {
                r.id: r
                for r in await conn.execute(
                    text("SELECT id, number, invoice_id, problem, resolution, expected_on FROM rmas")
                )
            }
            received = dict(
                (await conn.execute(text("SELECT rma_id, sum(received) FROM rma_lines GROUP BY rma_id"))).all()
            )
            counters = dict(
                ((s, y), n)
                for s, y, n in await conn.execute(text("SELECT series, year, last_number FROM number_counters"))
            )
    finally:
        await engine.dispose()
    assert {k: rows[k].number for k in rows} == {
        older: "RMA-2026-000001",
        newer: "RMA-2026-000002",
        last_year: "RMA-2025-000001",
    }
    assert all(r.invoice_id == invoice_id and r.problem == "broken; scratched" for r in rows.values())
    assert received == {older: 0, newer: 2, last_year: 0}
    assert {k: (r.resolution, r.expected_on) for k, r in rows.items()} == {
        older: (None, None),
        newer: ("refund", date(2026, 3, 16)),
        last_year: (None, None),
    }
    assert counters == {("RMA", 2026): 2, ("RMA", 2025): 1}


async def test_revision_0005_goes_down_and_up(new_database):
    from alembic import command

    url = await new_database("returns")
    migrations = Path(definition().migrations)
    await asyncio.to_thread(upgrade, migrations, url)
    await asyncio.to_thread(command.downgrade, alembic_config(migrations, url), "0004")
    await asyncio.to_thread(upgrade, migrations, url)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM goods_receipts")) == 0
    finally:
        await engine.dispose()
