from __future__ import annotations

from sqlalchemy import JSON, Column, Date, DateTime, Index, String, Table, Text

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

# Every assignment is kept; the newest one of a document is its current assignment.
assignments = Table(
    "assignments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("document_id", String(36), nullable=False),
    Column("lead_unit", String(32), nullable=False),
    Column("coordinating_units", JSON, nullable=False),
    Column("informed_units", JSON, nullable=False),
    Column("opinion", Text, nullable=False),
    Column("deadline", Date, nullable=True),
    Column("assigned_by", String(128), nullable=False),
    Column("on_behalf_of", String(128), nullable=True),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Index("ix_assignments_document_id_assigned_at", "document_id", "assigned_at"),
)
