"""session versions and the revocation log

Revision ID: 7d2b9c4e1a60
Revises: 114554d50f00
Create Date: 2026-11-28 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d2b9c4e1a60"
down_revision: str | None = "114554d50f00"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "refresh_tokens",
        sa.Column("session_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.create_index("ix_refresh_tokens_person_id", "refresh_tokens", ["person_id"])
    op.create_table(
        "session_revocations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.String(length=128), nullable=True),
        sa.Column("min_version", sa.BigInteger(), nullable=True),
        sa.Column("family_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_revocations")),
    )
    op.create_index(op.f("ix_session_revocations_at"), "session_revocations", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_session_revocations_at"), table_name="session_revocations")
    op.drop_table("session_revocations")
    op.drop_index("ix_refresh_tokens_person_id", table_name="refresh_tokens")
    op.drop_column("refresh_tokens", "session_version")
