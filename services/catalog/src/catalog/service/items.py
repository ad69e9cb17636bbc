"""Use cases of the catalog: one unit of work each; the state and its events commit together."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from catalog.domain.items import DEFAULT, Default, Item, Kind, Status
from portal_runtime.clock import Clock
from portal_runtime.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


@dataclass
class CreateItem:
    """Prices as `prices` ([{"cycle", "price"}]) or as the old `price` + `billing` (+ period);
    `max_per_parent` only for an add-on (1 unless given; None: no limit)."""

    sku: str
    name: str
    description: str
    currency: str
    price: Decimal | None = None
    billing: str | None = None
    billing_period_months: int | None = None
    kind: Kind | str = Kind.SERVICE
    prices: list[dict] | None = None
    units: int | None = None
    parents: list[uuid.UUID] = field(default_factory=list)
    max_per_parent: int | None | Default = DEFAULT
    attributes: dict[str, str] | None = None
    tax_rate: Decimal | None = None  # a fraction (0.19); None: not taxed


COMPARE_MIN, COMPARE_MAX = 2, 4


@dataclass(frozen=True)
class Comparison:
    """Items side by side: one row per attribute name (in the order they first appear), its values
    in the order of `items` (None where an item has no such attribute)."""

    items: list[Item]
    attributes: list[tuple[str, list[str | None]]]


class CatalogService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def create_item(self, cmd: CreateItem) -> Item:
        async with self.uow() as uow:
            if await uow.items.sku_taken(cmd.sku.strip()):
                raise Conflict(f"sku {cmd.sku.strip()!r} is taken", field="sku")
            item = Item.create(**vars(cmd), now=self.clock.now())
            await self._check_parents(uow, item)
            uow.items.add(item)
            await uow.commit()
        return item

    async def change_item(self, item_id: uuid.UUID, changes: dict, *, if_revision: int | None = None) -> Item:
        async with self.uow() as uow:
            item = await self._load(uow, item_id, if_revision)
            if "sku" in changes and await uow.items.sku_taken(changes["sku"], other_than=item_id):
                raise Conflict(f"sku {changes['sku']!r} is taken", field="sku")
            was = item.kind
            item.change(self.clock.now(), **changes)
            if was == Kind.SERVICE and item.kind != Kind.SERVICE:
                add_ons = await uow.items.add_ons_of(item_id)
                if add_ons:
                    raise Conflict(f"add-ons may be added to this service: {', '.join(add_ons)}", field="kind")
            if "parents" in changes or "kind" in changes:
                await self._check_parents(uow, item)
            await uow.commit()
        return item

    async def retire_item(self, item_id: uuid.UUID, *, if_revision: int | None = None) -> Item:
        return await self._act(item_id, Item.retire, if_revision)

    async def feature_item(self, item_id: uuid.UUID, texts: Mapping[str, object]) -> Item:
        """Featured with a text per language (en, tr, de, pl): only an active item."""
        return await self._act(item_id, lambda item, now: item.feature(texts, now))

    async def unfeature_item(self, item_id: uuid.UUID) -> Item:
        return await self._act(item_id, Item.unfeature)

    async def _act(
        self, item_id: uuid.UUID, act: Callable[[Item, datetime], None], if_revision: int | None = None
    ) -> Item:
        """`act` on the item, locked; saved and published only when it changed (raised an event)."""
        async with self.uow() as uow:
            item = await self._load(uow, item_id, if_revision)
            act(item, self.clock.now())
            if item.events:
                await uow.commit()
        return item

    async def get_item(self, item_id: uuid.UUID, *, include_retired: bool, visible_to: str | None = None) -> Item:
        """The item; with `visible_to` (a customer's account) one it may not see answers as an unknown one."""
        async with self.uow() as uow:
            item = await uow.items.get(item_id, visible_to=visible_to)
        if item is None or (item.status != Status.ACTIVE and not include_retired):
            raise NotFound(f"no item {item_id}")
        return item

    async def list_items(
        self,
        *,
        status: Status | None,
        page: PageRequest,
        featured: bool = False,
        q: str | None = None,
        visible_to: str | None = None,
    ) -> Slice[Item]:
        """Items of `status` (any when None); with `featured`, only the featured ones; with `q`, those
        whose name, SKU or description hold each of its words (any case); with `visible_to` (a
        customer's account), only those it may see."""
        if q is not None and not q.strip():
            q = None
        async with self.uow() as uow:
            return await uow.items.page(status=status, featured=featured, page=page, q=q, visible_to=visible_to)

    async def compare(
        self, item_ids: Sequence[uuid.UUID], *, include_retired: bool, visible_to: str | None = None
    ) -> Comparison:
        """2 to 4 distinct items side by side by their attributes; one the caller may not see (or that
        does not exist) answers 404 naming it, as an unknown item."""
        ids = list(item_ids)
        if len(set(ids)) != len(ids):
            raise InvalidInput("ids: each item once", field="ids")
        if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
            raise InvalidInput(f"ids: {COMPARE_MIN} to {COMPARE_MAX} items to compare", field="ids")
        async with self.uow() as uow:
            found = await uow.items.many(ids, visible_to=visible_to)
        items = []
        for item_id in ids:
            item = found.get(item_id)
            if item is None or (item.status != Status.ACTIVE and not include_retired):
                raise NotFound(f"no item {item_id}", field="ids", item_id=str(item_id))
            items.append(item)
        names = list(dict.fromkeys(name for item in items for name in item.attributes))
        return Comparison(items, [(name, [item.attributes.get(name) for item in items]) for name in names])

    @staticmethod
    async def _check_parents(uow, item: Item) -> None:
        """An add-on's parents are active service items of the catalog."""
        if not item.parents:
            return
        found = await uow.items.kinds(item.parents)
        for parent in item.parents:
            kind, status = found.get(parent, (None, None))
            if kind != Kind.SERVICE:
                what = "no item" if kind is None else f"a {kind}"
                raise InvalidInput(f"parent {parent} is {what}, not a service item", field="parents")
            if status != Status.ACTIVE:
                raise InvalidInput(f"parent {parent} is retired", field="parents")

    @staticmethod
    async def _load(uow, item_id: uuid.UUID, if_revision: int | None = None) -> Item:
        """The item, locked; with `if_revision` (the caller's If-Match), only if it is still that one."""
        item = await uow.items.get(item_id, for_update=True)
        if item is None:
            raise NotFound(f"no item {item_id}")
        if if_revision is not None and item.revision != if_revision:
            raise PreconditionFailed(
                f"item {item_id} is at revision {item.revision}, not {if_revision}: read it again",
                field="If-Match",
                current_revision=item.revision,
            )
        return item
