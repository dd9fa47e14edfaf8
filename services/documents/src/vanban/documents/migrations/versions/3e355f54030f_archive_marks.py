"""archive marks: the agency archive's record of each document it keeps (issue 12)

Revision ID: 3e355f54030f
Revises: c38994f40878
Create Date: 2026-11-29 23:11:27.651014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e355f54030f"
down_revision: str | None = "c38994f40878"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_archive",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disposition_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint(
            "(destroyed_at IS NULL) = (disposition_id IS NULL)",
            name=op.f("ck_document_archive_destroyed"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_archive_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_archive")),
    )


def downgrade() -> None:
    op.drop_table("document_archive")
