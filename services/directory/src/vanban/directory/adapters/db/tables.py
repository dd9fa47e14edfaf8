from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

# The one agency this directory serves (one directory per agency namespace).
agency = Table(
    "agency",
    metadata,
    Column("code", String(13), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("abbreviation", String(30), nullable=False),
)

people = Table(
    "people",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("position_title", String(200), nullable=False),
    Column("password_hash", String(255), nullable=False),
    # JSON lists of role names and unit codes; JSONB so that "holds role X" is a containment test.
    Column("roles", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("unit_codes", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("clearance", String(16), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
