"""A service stopped while it is still connecting to Kafka (its consumers joining their group)
leaves nothing behind in its consumer group: the next process of the service gets its partitions
and its events at once, not after the stopped consumer's session has timed out. Real Kafka and
PostgreSQL; the services are returns (it consumes orders.users, as every service does)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from flow import publish_external
from sqlalchemy import select

from portal_contracts.events.orders import UserAccessChanged
from portal_runtime.access import UserAccessRecord
from portal_runtime.testing import eventually, running_service
from returns.bootstrap import definition


async def test_a_service_stopped_while_starting_leaves_its_group_free(new_database, kafka):
    url = await new_database("returns")
    for pause in (0.2, 0.5, 1.0, 1.5):  # stopped at different moments of its start
        async with running_service(definition(), database_url=url, kafka=kafka):
            await asyncio.sleep(pause)
    login = f"user-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    change = UserAccessChanged(
        user_id=uuid.uuid4(),
        account_id="acme",
        login=login,
        active=False,
        tokens_valid_from=now,
        reason="disabled",
        changed_by="ops/admin",
        changed_at=now,
    )
    async with running_service(definition(), database_url=url, kafka=kafka) as (rt, _):
        await publish_external(kafka, [change], source="orders", key=lambda e: str(e.user_id))

        async def applied():
            async with rt.sessions() as s:
                return await s.scalar(select(UserAccessRecord).where(UserAccessRecord.login == login))

        # well inside a stale member's session timeout: its partitions would still be held
        await eventually(applied, timeout=8, what="the next returns process applies the event")
