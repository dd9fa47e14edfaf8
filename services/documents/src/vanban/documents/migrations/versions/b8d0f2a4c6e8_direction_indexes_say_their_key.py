"""Partial indexes by direction also require their key (ADR 0009, 4)

With `direction = 'incoming'` alone for a predicate, the planner took
ix_documents_incoming_number_key as a bitmap of every incoming row and ANDed it into a filtered
search's rows (750 000 rows, 0.12 s at 1M). Their own lookups (key = value) imply the key is
not null, so they keep using them. Same rows, same uniqueness (nulls never conflicted).

Revision ID: b8d0f2a4c6e8
Revises: a7c9e1b3d5f7
Create Date: 2026-11-29 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8d0f2a4c6e8"
down_revision: str | None = "a7c9e1b3d5f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _replace(number_key: str, identifier: str) -> None:
    op.drop_index("ix_documents_incoming_number_key", table_name="documents")
    op.create_index(
        "ix_documents_incoming_number_key",
        "documents",
        ["issuer_code", "number_key"],
        unique=False,
        postgresql_where=sa.text(number_key),
    )
    op.drop_index("uq_documents_outgoing_identifier", table_name="documents")
    op.create_index(
        "uq_documents_outgoing_identifier",
        "documents",
        ["secrecy", "identifier"],
        unique=True,
        postgresql_where=sa.text(identifier),
    )


def upgrade() -> None:
    _replace(
        "direction = 'incoming' AND number_key IS NOT NULL",
        "direction = 'outgoing' AND identifier IS NOT NULL",
    )


def downgrade() -> None:
    _replace("direction = 'incoming'", "direction = 'outgoing'")
