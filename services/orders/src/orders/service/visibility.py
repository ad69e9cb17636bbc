"""Which catalog items an account may see and order, from orders' copy of catalog's access groups
(`catalog.access`). One rule, the same as catalog's own: an account assigned to no group sees every
active item; an account in one or more groups sees only the union of their items. Orders checks it
wherever it takes an item id from a customer (cart lines and checkout, request lines, quotes,
reorders, channel orders); an invisible item answers as an unknown one."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import any_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orders.adapters.access_tables import AccessGroupRow

log = logging.getLogger(__name__)


class Visibility:
    """Reads the copy in the caller's session (the unit of work's `session`)."""

    async def visible_items(self, session: AsyncSession, account_id: str) -> frozenset[uuid.UUID] | None:
        """The items `account_id` may see; None when it is in no group (every active item)."""
        rows = await session.scalars(
            select(AccessGroupRow.item_ids).where(
                any_(AccessGroupRow.account_ids) == account_id, AccessGroupRow.deleted.is_(False)
            )
        )
        groups = list(rows)
        if not groups:
            return None
        return frozenset(item for items in groups for item in items)

    async def check(self, session: AsyncSession, account_id: str, item_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """The given ids `account_id` may NOT see (an empty set: all visible)."""
        wanted = set(item_ids)
        if not wanted:
            return set()
        visible = await self.visible_items(session, account_id)
        return set() if visible is None else wanted - visible


async def apply_group(
    session: AsyncSession,
    *,
    group_id: uuid.UUID,
    revision: int,
    changed_at: datetime,
    name: str = "",
    item_ids: Iterable[uuid.UUID] = (),
    account_ids: Iterable[str] = (),
    deleted: bool = False,
) -> bool:
    """Keep the group's state if `revision` is newer than the copy's (an older or repeated event changes
    nothing). True when kept."""
    values = {
        "group_id": group_id,
        "name": name,
        "item_ids": sorted(set(item_ids)),
        "account_ids": sorted(set(account_ids)),
        "revision": revision,
        "deleted": deleted,
        "changed_at": changed_at,
    }
    stmt = insert(AccessGroupRow).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[AccessGroupRow.group_id],
        set_={k: stmt.excluded[k] for k in values if k != "group_id"},
        where=AccessGroupRow.revision < stmt.excluded.revision,
    ).returning(AccessGroupRow.group_id)
    kept = (await session.execute(stmt)).first() is not None
    if not kept:
        log.info("access group %s: revision %s ignored (not newer than the copy)", group_id, revision)
    return kept
