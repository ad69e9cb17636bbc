"""`svc`: the returns service on a migrated PostgreSQL database through its real unit of work, for
the modules that test queries, row locks and migrations; each of them says, as its fixture `now`,
where the frozen clock stands."""

from __future__ import annotations

import pytest

from portal_runtime.clock import FrozenClock
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork
from returns.adapters.events import to_contract
from returns.adapters.repository import ReturnsUnitOfWork
from returns.bootstrap import definition
from returns.service.returns import ReturnsService


@pytest.fixture
async def svc(migrated_database, now):
    engine = make_engine(await migrated_database(definition()))
    clock = FrozenClock(now)
    units = UnitsOfWork(make_sessionmaker(engine), Outbox("returns", clock), to_contract, ReturnsUnitOfWork)
    yield ReturnsService(units, clock)
    await engine.dispose()
