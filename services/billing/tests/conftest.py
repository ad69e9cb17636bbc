"""Fixtures of billing's tests: real Kafka and PostgreSQL from the `infra` fixture, a fresh
database per test (as in /tests/conftest.py), and billing's own test kit on the path."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

sys.path.insert(0, str(Path(__file__).parent))


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
def kafka(infra) -> str:
    return infra.kafka_bootstrap


@pytest.fixture
async def new_database(infra):
    """Make an empty database with a unique name; returns its SQLAlchemy async URL."""
    admin = infra.postgres_admin_url
    assert admin, "no PostgreSQL: set PORTAL_POSTGRES_URL or let the test session start one"

    async def make(prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}".replace("-", "_")
        conn = await asyncpg.connect(_asyncpg_dsn(admin))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        base = admin.rsplit("/", 1)[0]
        url = f"{base}/{name}"
        return url if url.startswith("postgresql+asyncpg://") else url.replace("postgresql://", "postgresql+asyncpg://", 1)

    return make
