"""Catalog's tables of access groups (their items and accounts) and published documents, on the
same metadata as the items'."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from catalog.adapters.tables import Base


class AccessGroupRow(Base):
    __tablename__ = "access_groups"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccessGroupItemRow(Base):
    """An item the group's accounts may see (position: the admin's order)."""

    __tablename__ = "access_group_items"

    group_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("access_groups.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("items.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class AccessGroupAccountRow(Base):
    """An account assigned to the group (account ids are the identity provider's strings)."""

    __tablename__ = "access_group_accounts"

    group_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("access_groups.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class DocumentRow(Base):
    """A published file; its bytes in `content` (bytea), read only by the download."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    revision: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DocumentGroupRow(Base):
    """A group whose accounts may see the document (a document with none is everyone's). A group
    that documents name cannot be deleted (RESTRICT): the document would become everyone's."""

    __tablename__ = "document_groups"

    document_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("access_groups.id"), primary_key=True, index=True)
