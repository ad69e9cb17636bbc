"""HTTP: access groups, for admins (`/v1/admin/access-groups`, and an account's groups at
`/v1/admin/accounts/{account_id}/access-groups`). Each change publishes the group's whole state on
`catalog.access` (AccessGroupChanged, revision + 1) or its end (AccessGroupDeleted)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, ConfigDict, Field

from catalog.domain.access import ACCOUNT_LENGTH, MAX_ACCOUNTS, MAX_ITEMS, NAME_LENGTH, AccessGroup
from catalog.service.access import AccessService
from portal_runtime.auth import admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest

AccountId = Annotated[str, Field(min_length=1, max_length=ACCOUNT_LENGTH, pattern=r"\S", description="not blank")]
GroupName = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH, pattern=r"\S", description="not blank")]


class AccessGroupIn(BaseModel):
    """The group's whole state: its name, the items its accounts may see, and those accounts."""

    model_config = ConfigDict(extra="forbid")

    name: GroupName
    item_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="items of the catalog (unknown ones: 422)"
    )
    account_ids: list[AccountId] = Field(default_factory=list, max_length=MAX_ACCOUNTS)


class AccessGroupOut(BaseModel):
    id: uuid.UUID
    name: str
    item_ids: list[uuid.UUID]
    account_ids: list[str]
    revision: int = Field(description="grows by one with each change (as published in AccessGroupChanged)")
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, group: AccessGroup) -> AccessGroupOut:
        return cls(**{f: getattr(group, f) for f in cls.model_fields})


ITEMS_422 = {422: "An item that is not in the catalog (`field`: `item_ids`, `unknown_ids`), or a blank name"}


class AccessGroupController(Controller):
    """Access groups: an account in no group sees every active item; an account in groups sees only
    the union of their items (catalog's lists, search, detail and comparison; orders' cart, quotes,
    orders and reorders, from its copy)."""

    path = "/v1/admin/access-groups"
    tags = ["access groups (admin)"]
    guards = [admin_only]

    @post("/", summary="Create an access group (admin)", responses=problems(ITEMS_422))
    async def create_group(
        self, data: JSONBody[AccessGroupIn], access: NamedDependency[AccessService]
    ) -> AccessGroupOut:
        made = await access.create_group(name=data.name, item_ids=data.item_ids, account_ids=data.account_ids)
        return AccessGroupOut.of(made)

    @get("/", summary="List access groups by name (admin)")
    async def list_groups(
        self, access: NamedDependency[AccessService], page: NamedDependency[PageRequest]
    ) -> Page[AccessGroupOut]:
        return (await access.list_groups(page)).map(AccessGroupOut.of)

    @get("/{group_id:uuid}", summary="Read an access group (admin)")
    async def get_group(self, group_id: FromPath[uuid.UUID], access: NamedDependency[AccessService]) -> AccessGroupOut:
        return AccessGroupOut.of(await access.get_group(group_id))

    @put(
        "/{group_id:uuid}",
        summary="Replace an access group's name, items and accounts (admin); the same state again changes nothing",
        responses=problems(ITEMS_422),
    )
    async def replace_group(
        self, group_id: FromPath[uuid.UUID], data: JSONBody[AccessGroupIn], access: NamedDependency[AccessService]
    ) -> AccessGroupOut:
        changed = await access.replace_group(
            group_id, name=data.name, item_ids=data.item_ids, account_ids=data.account_ids
        )
        return AccessGroupOut.of(changed)

    @delete(
        "/{group_id:uuid}",
        summary="Delete an access group (admin): its accounts are no longer limited by it",
        responses=problems({409: "Documents are visible to this group (`documents`): take it off them first"}),
    )
    async def delete_group(self, group_id: FromPath[uuid.UUID], access: NamedDependency[AccessService]) -> None:
        await access.delete_group(group_id)

    @put(
        "/{group_id:uuid}/accounts/{account_id:str}",
        summary="Assign an account to the group (admin); already in it: nothing changes",
    )
    async def assign_account(
        self, group_id: FromPath[uuid.UUID], account_id: FromPath[AccountId], access: NamedDependency[AccessService]
    ) -> AccessGroupOut:
        return AccessGroupOut.of(await access.assign(group_id, account_id))

    @delete(
        "/{group_id:uuid}/accounts/{account_id:str}",
        status_code=200,
        summary="Take an account out of the group (admin); not in it: nothing changes",
    )
    async def unassign_account(
        self, group_id: FromPath[uuid.UUID], account_id: FromPath[AccountId], access: NamedDependency[AccessService]
    ) -> AccessGroupOut:
        return AccessGroupOut.of(await access.unassign(group_id, account_id))


class AccountAccessController(Controller):
    path = "/v1/admin/accounts"
    tags = ["access groups (admin)"]
    guards = [admin_only]

    @get(
        "/{account_id:str}/access-groups",
        summary="The access groups an account is assigned to (admin); none: it sees every active item",
    )
    async def list_account_groups(
        self,
        account_id: FromPath[AccountId],
        access: NamedDependency[AccessService],
        page: NamedDependency[PageRequest],
    ) -> Page[AccessGroupOut]:
        return (await access.list_groups(page, account_id=account_id)).map(AccessGroupOut.of)
