"""The one place returns' real adapters are wired."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from portal_runtime.service import ServiceDefinition, ServiceRuntime
from returns.adapters.events import to_contract
from returns.adapters.repository import ReturnsUnitOfWork
from returns.consumers import register_consumers
from returns.http.receipts import GoodsReceiptController
from returns.http.returns import AdminReturnController, ReturnController
from returns.service.returns import ReturnsService
from returns.settings import ReturnsSettings


def _dependencies(rt: ServiceRuntime) -> dict:
    config = ReturnsSettings()
    service = ReturnsService(rt.uow, rt.clock, tz=rt.settings.timezone, expected_days=config.returns_expected_days)
    return {"rmas": Provide(lambda: service, sync_to_thread=False)}


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="returns",
        description="RMA requests against a customer's invoices (kept locally from `billing.invoices`; goods "
        "only as far as `orders.orders` says they shipped), their approval or rejection, expected completion "
        "date and goods receipts. Published on `returns.rma`.",
        migrations=Path(__file__).parent / "migrations",
        routes=[ReturnController, AdminReturnController, GoodsReceiptController],
        register_consumers=register_consumers,
        dependencies=_dependencies,
        event_mapping=to_contract,
        unit_of_work=ReturnsUnitOfWork,
    )
