"""Orders' copy of catalog's access groups (`catalog.access`): which items an account may see and order."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from orders.adapters.tables import Base


class AccessGroupRow(Base):
    """One access group as its newest event said (`revision`); a deleted group keeps its row
    (`deleted`), so that an older AccessGroupChanged arriving after the deletion changes nothing."""

    __tablename__ = "access_groups"
    __table_args__ = (Index("ix_access_groups_account_ids", "account_ids", postgresql_using="gin"),)

    group_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    item_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID))
    account_ids: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    revision: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
