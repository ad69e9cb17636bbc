"""Access groups: a set of catalog items and the customer accounts assigned to it. The one rule of
visibility (orders keeps a copy of it from `catalog.access`): an account assigned to no group sees
every active item; an account in one or more groups sees only the union of their items. Admins see
everything. An invisible item answers exactly as an unknown one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from catalog.domain.events import GroupChanged, GroupDeleted
from portal_runtime.errors import InvalidInput

NAME_LENGTH = 200
ACCOUNT_LENGTH = 200
MAX_ITEMS = 1000
MAX_ACCOUNTS = 1000


def account_id_of(value: object, field: str = "account_ids") -> str:
    """An account id: any string of 1 to 200 characters, not blank (ids are the identity provider's)."""
    if not isinstance(value, str) or not value.strip() or len(value) > ACCOUNT_LENGTH:
        raise InvalidInput(f"an account id is 1 to {ACCOUNT_LENGTH} characters, not blank", field=field)
    return value


def visible_items(groups: Iterable[AccessGroup]) -> frozenset[uuid.UUID] | None:
    """What an account in `groups` (its groups) may see: None when it is in none (every active item),
    else the union of their items."""
    groups = list(groups)
    if not groups:
        return None
    return frozenset(item for g in groups for item in g.item_ids)


def document_visible(document_groups: Iterable[uuid.UUID], account_groups: Iterable[uuid.UUID]) -> bool:
    """A document with no groups is visible to every account; with groups, only to accounts in one of them."""
    wanted = set(document_groups)
    return not wanted or bool(wanted & set(account_groups))


@dataclass
class AccessGroup:
    id: uuid.UUID
    name: str
    item_ids: list[uuid.UUID] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)
    revision: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted: bool = False
    events: list[GroupChanged | GroupDeleted] = field(default_factory=list, repr=False)

    @classmethod
    def create(
        cls, *, name: str, item_ids: Iterable[uuid.UUID], account_ids: Iterable[str], now: datetime
    ) -> AccessGroup:
        group = cls(id=uuid.uuid4(), name="", created_at=now, updated_at=now)
        group._set(name, item_ids, account_ids)
        group._published(now)
        return group

    def replace(self, *, name: str, item_ids: Iterable[uuid.UUID], account_ids: Iterable[str], now: datetime) -> None:
        """The whole state at once (PUT); the same state again changes nothing."""
        before = (self.name, list(self.item_ids), list(self.account_ids))
        self._set(name, item_ids, account_ids)
        if (self.name, self.item_ids, self.account_ids) != before:
            self._revised(now)

    def assign(self, account_id: str, now: datetime) -> None:
        """The account is in the group (again: nothing changes)."""
        account_id = account_id_of(account_id, "account_id")
        if account_id not in self.account_ids:
            if len(self.account_ids) >= MAX_ACCOUNTS:
                raise InvalidInput(f"a group has at most {MAX_ACCOUNTS} accounts", field="account_id")
            self.account_ids.append(account_id)
            self._revised(now)

    def unassign(self, account_id: str, now: datetime) -> None:
        """The account is no longer in the group (not in it: nothing changes)."""
        if account_id in self.account_ids:
            self.account_ids.remove(account_id)
            self._revised(now)

    def delete(self, now: datetime) -> None:
        self.deleted = True
        self.revision += 1
        self.updated_at = now
        self.events.append(GroupDeleted(group_id=self.id, revision=self.revision, at=now))

    def _set(self, name: object, item_ids: Iterable[uuid.UUID], account_ids: Iterable[str]) -> None:
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_LENGTH:
            raise InvalidInput(f"name is 1 to {NAME_LENGTH} characters, not blank", field="name")
        items = list(dict.fromkeys(item_ids))
        if len(items) > MAX_ITEMS:
            raise InvalidInput(f"a group has at most {MAX_ITEMS} items", field="item_ids")
        accounts = list(dict.fromkeys(account_id_of(a) for a in account_ids))
        if len(accounts) > MAX_ACCOUNTS:
            raise InvalidInput(f"a group has at most {MAX_ACCOUNTS} accounts", field="account_ids")
        self.name, self.item_ids, self.account_ids = name.strip(), items, accounts

    def _revised(self, now: datetime) -> None:
        self.revision += 1
        self.updated_at = now
        self._published(now)

    def _published(self, now: datetime) -> None:
        self.events.append(
            GroupChanged(
                group_id=self.id,
                name=self.name,
                item_ids=tuple(self.item_ids),
                account_ids=tuple(self.account_ids),
                revision=self.revision,
                at=now,
            )
        )
