"""Retention of the outbox and inbox (the daily `purge` job), on real PostgreSQL: published outbox
rows and inbox rows older than their retention go; an unpublished event is never dropped, however
old; run again for the same date, it drops nothing more."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal_runtime.db import InboxRecord, OutboxRecord, RuntimeBase, make_engine, make_sessionmaker
from portal_runtime.jobs import Purge

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def outbox(name: str, created_hours_ago: float, published_hours_ago: float | None) -> OutboxRecord:
    published = None if published_hours_ago is None else NOW - timedelta(hours=published_hours_ago)
    return OutboxRecord(
        event_id=uuid.uuid4(),
        topic="t",
        key=name,
        event_type=name,
        envelope={},
        created_at=NOW - timedelta(hours=created_hours_ago),
        published_at=published,
    )


def inbox(name: str, hours_ago: float) -> InboxRecord:
    return InboxRecord(event_id=uuid.uuid4(), event_type=name, processed_at=NOW - timedelta(hours=hours_ago))


async def test_purge_drops_only_what_is_past_its_retention(new_database):
    engine = make_engine(await new_database("runtime"))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(RuntimeBase.metadata.create_all)
        sessions = make_sessionmaker(engine)
        async with sessions() as s, s.begin():
            s.add_all(
                [
                    outbox("published-long-ago", 100, 99),
                    outbox("published-recently", 80, 71),
                    outbox("never-published", 500, None),
                    inbox("applied-long-ago", 400),
                    inbox("applied-recently", 300),
                ]
            )
        purge = Purge(sessions, UTC, outbox_retention=timedelta(hours=72), inbox_retention=timedelta(hours=336))
        done = await purge.before(NOW)
        assert (done["outbox_deleted"], done["inbox_deleted"]) == (1, 1)
        async with sessions() as s:
            assert sorted(await s.scalars(select(OutboxRecord.event_type))) == ["never-published", "published-recently"]
            assert list(await s.scalars(select(InboxRecord.event_type))) == ["applied-recently"]
        again = await purge.before(NOW)
        assert (again["outbox_deleted"], again["inbox_deleted"]) == (0, 0)  # nothing more to do
        # As of a date, the retention counts from the date's start in the business's time zone.
        as_of = await purge(NOW.date() + timedelta(days=1))
        assert as_of["outbox_published_before"] == (NOW.replace(hour=0) + timedelta(days=1, hours=-72)).isoformat()
    finally:
        await engine.dispose()
