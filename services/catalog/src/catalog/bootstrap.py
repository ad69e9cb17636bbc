"""The one place catalog's real adapters are wired."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from catalog.adapters.events import to_contract
from catalog.adapters.repository import CatalogUnitOfWork
from catalog.http.items import AdminItemController, ItemController
from catalog.service.items import CatalogService
from portal_runtime.service import ServiceDefinition, ServiceRuntime


def _dependencies(rt: ServiceRuntime) -> dict:
    service = CatalogService(rt.uow, rt.clock)
    return {"catalog": Provide(lambda: service, sync_to_thread=False)}


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="catalog",
        description="Products, additional services, add-ons and their prices. Admins change them; "
        "every change is published on `catalog.items`.",
        migrations=Path(__file__).parent / "migrations",
        routes=[ItemController, AdminItemController],
        dependencies=_dependencies,
        event_mapping=to_contract,
        unit_of_work=CatalogUnitOfWork,
    )
