from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, String, Table, text

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

objects = Table(
    "objects",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Renewed by every upload of the same content: the unclaimed grace period counts from here.
    Column("last_put_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("size > 0", name="size_positive"),
    # The sweeper only ever looks at unclaimed rows.
    Index(
        "ix_objects_unclaimed_last_put_at",
        "last_put_at",
        postgresql_where=text("claimed_at IS NULL"),
    ),
)

# One row per upload still holding its content (see domain.model.Upload). No foreign key: the
# row is written before the object's own row exists, so that a release of the same content
# by another upload sees it.
uploads = Table(
    "uploads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("uploaded_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)
