"""The one place returns' real adapters are wired."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from portal_runtime.service import ServiceDefinition, ServiceRuntime
from returns.adapters.events import to_contract
from returns.adapters.repository import ReturnsUnitOfWork
from returns.consumers import register_consumers
from returns.http.returns import AdminReturnController, ReturnController
from returns.service.returns import ReturnsService


def _dependencies(rt: ServiceRuntime) -> dict:
    service = ReturnsService(rt.uow, rt.clock)
    return {"rmas": Provide(lambda: service, sync_to_thread=False)}


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="returns",
        description="RMA requests against a customer's invoices (kept locally from `billing.invoices`), "
        "their approval or rejection and the receipt of the goods. New requests are published on `returns.rma`.",
        migrations=Path(__file__).parent / "migrations",
        routes=[ReturnController, AdminReturnController],
        register_consumers=register_consumers,
        dependencies=_dependencies,
        event_mapping=to_contract,
        unit_of_work=ReturnsUnitOfWork,
    )
