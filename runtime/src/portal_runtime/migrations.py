"""Alembic for a service's own database: the shared env.py body and `migrate`."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from portal_runtime.db import RuntimeBase

log = logging.getLogger(__name__)


def alembic_config(migrations: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(migrations: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(migrations, database_url), revision)


def upgrade_waiting(migrations: Path, database_url: str, revision: str = "head", *, wait: float = 120.0) -> None:
    """`upgrade`, trying again while the database is away (an outage, `faults.classify`) for up to
    `wait` seconds; a wrong configuration (credentials, a missing database) fails at once.

    A migration Job or compose step starts beside its database, and the way there can fail for a
    moment after it first answered: podman's DNS (aardvark-dns 1.4) drops queries while it reloads
    for every container that starts, and the compose stack once failed on `orders migrate`'s
    `Temporary failure in name resolution` after its first connection had succeeded. Trying the
    whole upgrade again is safe: every revision runs in one PostgreSQL transaction (DDL included),
    so a try cut off mid-way left nothing, and the next starts from the version that committed."""
    from portal_runtime.faults import Backoff, Fault, classify, describe

    deadline, backoff = time.monotonic() + wait, Backoff(initial=0.5, cap=5.0)
    while True:
        try:
            upgrade(migrations, database_url, revision)
            return
        except Exception as exc:
            if classify(exc) is not Fault.OUTAGE or time.monotonic() >= deadline:
                raise
            pause = backoff.next()
            log.warning("migrate: the database is away (%s); trying again in %.1f s", describe(exc), pause)
            time.sleep(pause)


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online, async engine)."""
    from portal_runtime import access, jobs, testclock  # noqa: F401  (their tables are RuntimeBase's too)

    targets = [metadata, RuntimeBase.metadata]

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=targets, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = async_engine_from_config(
            context.config.get_section(context.config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())


def create_runtime_tables() -> None:
    """Called from each service's first revision: the outbox and inbox tables as they were first
    made, written out (not `metadata.create_all`), so that this revision never changes when the
    runtime's models change later; such a change comes as a new function here, called from a new
    revision of every service."""
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("event_id", postgresql.UUID(), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("envelope", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"))
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "inbox",
        sa.Column("event_id", postgresql.UUID(), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_inbox"),
    )
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])


def create_idempotency_table() -> None:
    """Called from a revision of each service that takes Idempotency-Keys: the `idempotency`
    table (see `portal_runtime.idempotency`) as it was first made, written out like the outbox
    and inbox above."""
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "idempotency",
        sa.Column("caller", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", postgresql.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("caller", "key", name="pk_idempotency"),
    )
    op.create_index("ix_idempotency_created_at", "idempotency", ["created_at"])


def drop_idempotency_table() -> None:
    from alembic import op

    op.drop_table("idempotency")


def drop_runtime_tables() -> None:
    from alembic import op

    op.drop_table("inbox")
    op.drop_table("outbox")


def create_job_tables() -> None:
    """Called from a new revision of every service: `job_runs` (one row per job and date it ran
    for; `portal_runtime.jobs`) and `test_clock` (the test clock's offset, read by every process
    of the service; `portal_runtime.testclock`), written out as they were first made."""
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "job_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", postgresql.JSONB(), nullable=True),
        sa.Column("run_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_runs"),
        sa.UniqueConstraint("job", "as_of", name="uq_job_runs_job"),
    )
    op.create_table(
        "test_clock",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("offset_us", sa.BigInteger(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_to", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_test_clock"),
    )


def drop_job_tables() -> None:
    from alembic import op

    op.drop_table("test_clock")
    op.drop_table("job_runs")


def create_user_access_table() -> None:
    """Called from a new revision of every service: `user_access`, each service's copy of which tokens of
    the portal's own issuer it still takes (from orders' `UserAccessChanged`; `portal_runtime.access`)."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "user_access",
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("login", sa.String(200), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tokens_valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "login", name="pk_user_access"),
    )


def drop_user_access_table() -> None:
    from alembic import op

    op.drop_table("user_access")


def create_insert_notify(table: str, channel: str) -> None:
    """`table` notifies `channel` when a transaction that inserted rows into it commits (a
    statement-level trigger calling `pg_notify`; `portal_runtime.wake` listens): the function
    `<table>_notify()` and the trigger of that name, written out here as first made."""
    from alembic import op

    op.execute(
        f"CREATE OR REPLACE FUNCTION {table}_notify() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_notify AFTER INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_notify()"
    )


def drop_insert_notify(table: str) -> None:
    from alembic import op

    op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_notify()")


def create_outbox_notify() -> None:
    """Called from a new revision of every service: the outbox notifies OUTBOX_CHANNEL when a
    transaction that staged rows commits, so the relay wakes at once."""
    from portal_runtime.wake import OUTBOX_CHANNEL

    create_insert_notify("outbox", OUTBOX_CHANNEL)


def drop_outbox_notify() -> None:
    drop_insert_notify("outbox")
