"""Use cases of access groups (admins only): each change of a group publishes its whole state
(AccessGroupChanged, revision + 1) or its end (AccessGroupDeleted) through the unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from catalog.domain.access import AccessGroup, account_id_of
from portal_runtime.clock import Clock
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


class AccessService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def create_group(
        self, *, name: str, item_ids: Iterable[uuid.UUID], account_ids: Iterable[str]
    ) -> AccessGroup:
        async with self.uow() as uow:
            group = AccessGroup.create(name=name, item_ids=item_ids, account_ids=account_ids, now=self.clock.now())
            await _check_items(uow, group.item_ids)
            uow.groups.add(group)
            await uow.commit()
        return group

    async def replace_group(
        self, group_id: uuid.UUID, *, name: str, item_ids: Iterable[uuid.UUID], account_ids: Iterable[str]
    ) -> AccessGroup:
        """The group's whole state (name, items, accounts); the same state again changes nothing."""

        async def replace(uow, group: AccessGroup, now: datetime) -> None:
            group.replace(name=name, item_ids=item_ids, account_ids=account_ids, now=now)
            await _check_items(uow, group.item_ids)

        return await self._act(group_id, replace)

    async def assign(self, group_id: uuid.UUID, account_id: str) -> AccessGroup:
        """The account in the group (already in it: nothing changes)."""

        async def assign(uow, group: AccessGroup, now: datetime) -> None:
            group.assign(account_id, now)

        return await self._act(group_id, assign)

    async def unassign(self, group_id: uuid.UUID, account_id: str) -> AccessGroup:
        """The account out of the group (not in it: nothing changes)."""

        async def unassign(uow, group: AccessGroup, now: datetime) -> None:
            group.unassign(account_id, now)

        return await self._act(group_id, unassign)

    async def delete_group(self, group_id: uuid.UUID) -> None:
        """Gone: its accounts are no longer limited by it. A group that documents name is not deleted
        (409): those documents would become everyone's; take the group off them first."""

        async def remove(uow, group: AccessGroup, now: datetime) -> None:
            documents = await uow.groups.documents_of(group_id)
            if documents:
                raise Conflict(
                    f"documents are visible to this group: {', '.join(map(str, documents))}; "
                    "take the group off them first",
                    field="group_id",
                    documents=[str(d) for d in documents],
                )
            group.delete(now)

        await self._act(group_id, remove)

    async def get_group(self, group_id: uuid.UUID) -> AccessGroup:
        async with self.uow() as uow:
            group = await uow.groups.get(group_id)
        if group is None:
            raise NotFound(f"no access group {group_id}")
        return group

    async def list_groups(self, page: PageRequest, *, account_id: str | None = None) -> Slice[AccessGroup]:
        """Every group by name; with `account_id`, the groups that account is assigned to."""
        if account_id is not None:
            account_id_of(account_id, "account_id")
        async with self.uow() as uow:
            return await uow.groups.page(page, account_id=account_id)

    async def _act(self, group_id: uuid.UUID, act: Callable) -> AccessGroup:
        """`act` on the group, locked; saved and published only when it changed (raised an event)."""
        async with self.uow() as uow:
            group = await uow.groups.get(group_id, for_update=True)
            if group is None:
                raise NotFound(f"no access group {group_id}")
            await act(uow, group, self.clock.now())
            if group.events:
                await uow.commit()
        return group


async def _check_items(uow, item_ids: list[uuid.UUID]) -> None:
    """A group's items are items of the catalog (422 naming `item_ids` with the unknown ones)."""
    known = await uow.items.existing(item_ids)
    unknown = [i for i in item_ids if i not in known]
    if unknown:
        raise InvalidInput(
            f"item_ids: no such items: {', '.join(map(str, unknown))}",
            field="item_ids",
            unknown_ids=[str(i) for i in unknown],
        )
