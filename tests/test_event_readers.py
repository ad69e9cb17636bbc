"""The readers the contracts declare (portal_contracts.registry.READS, from which the AsyncAPI document's
receive operations come) are the handlers each service's bootstrap registers: neither drifts."""

from __future__ import annotations

import importlib

import pytest

from portal_contracts.registry import READS, SERVICES
from portal_runtime.service import ServiceRuntime
from portal_runtime.settings import ServiceSettings
from portal_runtime.testing import TEST_SECRET


@pytest.mark.parametrize("service", SERVICES)
def test_the_declared_readers_are_the_registered_handlers(service):
    definition = importlib.import_module(f"{service}.bootstrap").definition()
    settings = ServiceSettings(
        service_name=service,
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/never-connected",  # nothing is connected here
        jwt_secret=TEST_SECRET,
    )
    handlers = ServiceRuntime(definition, settings).consumer.handlers
    assert set(handlers) == set(READS.get(service, ())), (
        f"{service} registers handlers for {sorted(handlers)}: say so in portal_contracts.registry.READS"
    )
