"""Alembic for a service's own database: the shared env.py body and `migrate`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from portal_runtime.db import RuntimeBase


def alembic_config(migrations: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(migrations: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(migrations, database_url), revision)


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online, async engine)."""
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
    """Called from each service's first revision: the outbox and inbox tables."""
    from alembic import op

    bind = op.get_bind()
    RuntimeBase.metadata.create_all(bind)


def drop_runtime_tables() -> None:
    from alembic import op

    RuntimeBase.metadata.drop_all(op.get_bind())
