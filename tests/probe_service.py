"""A minimal service for delivery tests: it applies CatalogItemPublished to its own table and
counts how often each event's effect was applied. Also runnable as a process that dies on cue:

    python tests/probe_service.py consume|relay-catalog DATABASE_URL KAFKA GROUP [DIE_ON_KEY]
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

from sqlalchemy import Integer, MetaData, String, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_contracts.events.catalog import CatalogItemPublished
from portal_runtime.consumer import EventConsumer, Incoming
from portal_runtime.db import RuntimeBase
from portal_runtime.service import ServiceDefinition, ServiceRuntime


class Base(DeclarativeBase):
    metadata = MetaData()


class SeenItem(Base):
    __tablename__ = "seen_items"

    item_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    applied: Mapped[int] = mapped_column(Integer)


def definition(group: str, *, refuse_poison: bool = True) -> ServiceDefinition:
    """refuse_poison=False is the probe after its bug was fixed: poison pills apply too. An item
    named "flaky ..." fails its first try (in this process) and applies on the next."""
    failed_once: set[uuid.UUID] = set()

    def register(consumer: EventConsumer, rt: ServiceRuntime) -> None:
        @consumer.on(CatalogItemPublished)
        async def apply(d: Incoming) -> None:
            if refuse_poison and d.event.name.startswith("poison"):
                raise RuntimeError(f"cannot apply {d.event.name}")
            if d.event.name.startswith("flaky") and d.event.item_id not in failed_once:
                failed_once.add(d.event.item_id)
                raise RuntimeError(f"{d.event.name} fails once")
            await d.session.execute(
                insert(SeenItem)
                .values(item_id=d.event.item_id, name=d.event.name, applied=1)
                .on_conflict_do_update(index_elements=["item_id"], set_={"applied": SeenItem.applied + 1})
            )

    return ServiceDefinition(name=group, description="delivery probe", migrations=None, register_consumers=register)


async def create_tables(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(RuntimeBase.metadata.create_all)
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()


async def prepare(new_database, kafka: str) -> tuple[str, str]:
    """A fresh group name, its database with tables, and its dead-letter topic."""
    group = f"probe_{uuid.uuid4().hex[:8]}"
    url = await new_database(group)
    await create_tables(url)
    await create_dlq(kafka, group)
    return group, url


async def create_dlq(kafka: str, group: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"{group}.dlq", num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()


async def applied(rt: ServiceRuntime, item_id: uuid.UUID) -> int:
    async with rt.sessions() as session:
        return await session.scalar(select(SeenItem.applied).where(SeenItem.item_id == item_id)) or 0


def _die(*_args) -> None:
    """Simulate a crash at the worst moment: no offset commit, no outbox update, no cleanup."""
    os._exit(17)


async def _main(mode: str, database_url: str, kafka: str, group: str, die_on: str = "") -> None:
    from portal_runtime.settings import ServiceSettings

    async def die(envelope=None):
        if not die_on or (envelope is not None and envelope.key == die_on):
            if mode == "consume":
                # Past the auto-commit interval (5 s): a consumer that committed its offset
                # before or beside the transaction (ACK_FIRST) would have done so by now.
                await asyncio.sleep(6)
            _die()

    if mode == "consume":
        settings = ServiceSettings(
            service_name=group, database_url=database_url, kafka_bootstrap_servers=kafka, jwt_secret="x"
        )
        rt = ServiceRuntime(definition(group), settings)
        rt.consumer.after_commit = die
        await rt.start(consume=True, relay=False)
    else:  # relay the catalog outbox, dying right after the first publish
        from catalog.bootstrap import definition as catalog

        settings = ServiceSettings(
            service_name="catalog", database_url=database_url, kafka_bootstrap_servers=kafka, jwt_secret="x"
        )
        rt = ServiceRuntime(catalog(), settings)
        rt.relay.after_publish = die
        await rt.start(consume=False, relay=True)
    await asyncio.sleep(120)
    sys.exit("the fault never happened")


if __name__ == "__main__":
    asyncio.run(_main(*sys.argv[1:6]))
