"""sign-in throttles: failures by address, known sign-in addresses

Revision ID: 5b0c2f7e9a41
Revises: 7d2b9c4e1a60
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b0c2f7e9a41"
down_revision: str | None = "7d2b9c4e1a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sign_in_failures",
        sa.Column("address", sa.String(length=64), server_default="", nullable=False),
    )
    op.create_index(
        op.f("ix_sign_in_failures_address_failed_at"),
        "sign_in_failures",
        ["address", "failed_at"],
        unique=False,
    )
    op.create_table(
        "known_sign_in_addresses",
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", "address", name=op.f("pk_known_sign_in_addresses")),
    )
    op.create_index(
        op.f("ix_known_sign_in_addresses_last_sign_in_at"),
        "known_sign_in_addresses",
        ["last_sign_in_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_known_sign_in_addresses_last_sign_in_at"), table_name="known_sign_in_addresses"
    )
    op.drop_table("known_sign_in_addresses")
    op.drop_index(op.f("ix_sign_in_failures_address_failed_at"), table_name="sign_in_failures")
    op.drop_column("sign_in_failures", "address")
