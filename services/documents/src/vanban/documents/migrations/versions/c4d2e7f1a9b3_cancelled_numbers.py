"""cancelled numbers of a register's year (the counters serve every register)

Revision ID: c4d2e7f1a9b3
Revises: 3a8e5b1c9d47
Create Date: 2026-11-29 01:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d2e7f1a9b3"
down_revision: str | None = "3a8e5b1c9d47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cancelled_numbers",
        sa.Column("register_id", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("cancelled_by", sa.String(length=128), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["register_id", "year"],
            ["counters.series", "counters.year"],
            name=op.f("fk_cancelled_numbers_register_id_counters"),
        ),
        sa.PrimaryKeyConstraint("register_id", "year", "number", name=op.f("pk_cancelled_numbers")),
    )


def downgrade() -> None:
    op.drop_table("cancelled_numbers")
