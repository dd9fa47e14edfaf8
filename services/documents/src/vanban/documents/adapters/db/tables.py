from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

# One row per register (numbering series: `series` is the register's id) and year, incoming and
# outgoing alike; taking a number locks the row until the transaction ends, so numbers are gapless
# (see registers.take_number).
counters = Table(
    "counters",
    metadata,
    Column("series", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("last_number", BigInteger, nullable=False),
    PrimaryKeyConstraint("series", "year"),
)

# Numbers issued and then cancelled, with the reason; a cancelled number stays taken (the counter
# never goes back), and it belongs to a year whose counter exists.
cancelled_numbers = Table(
    "cancelled_numbers",
    metadata,
    Column("register_id", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("cancelled_by", String(128), nullable=False),
    Column("cancelled_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("register_id", "year", "number"),
    ForeignKeyConstraint(["register_id", "year"], ["counters.series", "counters.year"]),
)

incoming_documents = Table(
    "incoming_documents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("arrival_year", Integer, nullable=False),
    Column("arrival_number", BigInteger, nullable=False),
    Column("arrived_at", DateTime(timezone=True), nullable=False),
    Column("issuer_code", String(13), nullable=False),
    Column("issuer_name", String(200), nullable=False),
    Column("code_number", String(11), nullable=False),
    Column("code_notation", String(30), nullable=False),
    Column("issued_date", Date, nullable=False),
    Column("document_type", String(100), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("secrecy", String(16), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("file_size", BigInteger, nullable=False),
    Column("file_content_type", String(127), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("registered_by", String(128), nullable=False),
    # Numbers are unique within a register: a year and a secrecy level (see register_of).
    UniqueConstraint(
        "arrival_year", "secrecy", "arrival_number", name="uq_incoming_arrival_register"
    ),
)
