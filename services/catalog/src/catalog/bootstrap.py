"""The one place catalog's real adapters are wired."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from catalog.adapters.events import to_contract
from catalog.adapters.repository import CatalogUnitOfWork
from catalog.http.access import AccessGroupController, AccountAccessController
from catalog.http.documents import AdminDocumentController, DocumentController
from catalog.http.items import AdminItemController, ItemController
from catalog.service.access import AccessService
from catalog.service.documents import DocumentService
from catalog.service.items import CatalogService
from portal_runtime.service import ServiceDefinition, ServiceRuntime


def _dependencies(rt: ServiceRuntime) -> dict:
    service = CatalogService(rt.uow, rt.clock)
    access = AccessService(rt.uow, rt.clock)
    documents = DocumentService(rt.uow, rt.clock)
    return {
        "catalog": Provide(lambda: service, sync_to_thread=False),
        "access": Provide(lambda: access, sync_to_thread=False),
        "documents": Provide(lambda: documents, sync_to_thread=False),
    }


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="catalog",
        description="Products, additional services, add-ons and goods, their prices and attributes (compared side "
        "by side), searched by name, SKU or description. Admins change them; every change is published on "
        "`catalog.items`. Access groups limit what a customer account sees (an account in no group sees every "
        "active item; one in groups only their union), published on `catalog.access`. Published documents (a file "
        "with a title) are every account's, or only the accounts' of the groups they name.",
        migrations=Path(__file__).parent / "migrations",
        routes=[
            ItemController,
            AdminItemController,
            AccessGroupController,
            AccountAccessController,
            AdminDocumentController,
            DocumentController,
        ],
        dependencies=_dependencies,
        event_mapping=to_contract,
        unit_of_work=CatalogUnitOfWork,
    )
