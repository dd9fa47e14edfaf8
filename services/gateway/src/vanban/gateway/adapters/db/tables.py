from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Identity, Index, String, Table, text

from vanban.gateway.domain.sessions import FAILED_SIGN_IN_AUDIT_ACTIONS
from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

# The sweep drops failed sign-ins from the audit log once they are older than their keep time.
Index(
    "ix_audit_log_failed_sign_ins_occurred_at",
    platform_tables.audit.c.occurred_at,
    postgresql_where=platform_tables.audit.c.action.in_(FAILED_SIGN_IN_AUDIT_ACTIONS),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("family_id", String(36), nullable=False, index=True),
    Column("person_id", String(128), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # The person's session version at sign-in (the directory's); an older one than the
    # person's current version means the session has ended.
    Column("session_version", BigInteger, nullable=False, server_default=text("0")),
    Index("ix_refresh_tokens_person_id", "person_id"),
)

# The shared log of ended sessions that every gateway replica follows (see
# domain/revocations.py): a person's tokens below a version, or a signed-out session's family.
session_revocations = Table(
    "session_revocations",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("person_id", String(128), nullable=True),
    Column("min_version", BigInteger, nullable=True),
    Column("family_id", String(36), nullable=True),
)

# Rows live one window (purged by the gateway's sweep), whether or not the name exists.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("username", String(128), nullable=False),
    # The client address as counted: IPv4, or an IPv6 /64 network.
    Column("address", String(64), nullable=False, server_default=""),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_sign_in_failures_username_failed_at", "username", "failed_at"),
    Index("ix_sign_in_failures_address_failed_at", "address", "failed_at"),
)

# Where each account last signed in successfully; attempts from these addresses are spared the
# account-wide and address-wide throttles.
known_sign_in_addresses = Table(
    "known_sign_in_addresses",
    metadata,
    Column("username", String(128), primary_key=True),
    Column("address", String(64), primary_key=True),
    Column("last_sign_in_at", DateTime(timezone=True), nullable=False, index=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
