"""people session version

Revision ID: 5c1e0a9d2f47
Revises: b3fcab110b7b
Create Date: 2026-11-28 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0a9d2f47"
down_revision: str | None = "b3fcab110b7b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "people",
        sa.Column("session_version", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("people", "session_version")
