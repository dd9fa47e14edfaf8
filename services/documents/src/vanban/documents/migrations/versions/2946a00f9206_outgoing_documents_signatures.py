"""outgoing documents' signatures: each signature the signing service added to the PDF

Revision ID: 2946a00f9206
Revises: d9e1f3a5b7c9
Create Date: 2026-11-29 17:43:19.733134
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2946a00f9206"
down_revision: str | None = "d9e1f3a5b7c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_signatures",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_by", sa.String(length=128), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("certificate_subject", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "kind IN ('leader', 'agency', 'agency_text')", name=op.f("ck_document_signatures_kind")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_signatures_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "id", name=op.f("pk_document_signatures")),
    )


def downgrade() -> None:
    op.drop_table("document_signatures")
