"""notifications carry the secrecy of their document; leaked notices removed

Revision ID: 5c1e7a9d3b20
Revises: 9fd24e287f99
Create Date: 2026-11-28 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e7a9d3b20"
down_revision: str | None = "9fd24e287f99"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Notices recorded before this revision have no known secrecy. Those of documents above
    # their recipient's clearance were written with a placeholder instead of the abstract (and
    # still named the number, issuer and ký hiệu): they are removed, the rest count as `none`.
    op.add_column(
        "notifications",
        sa.Column("secrecy", sa.String(length=16), server_default="none", nullable=False),
    )
    op.execute(
        sa.text(
            "DELETE FROM notifications WHERE kind = 'incoming_registered' "
            "AND body LIKE '%, trích yếu được ẩn)'"
        )
    )


def downgrade() -> None:
    op.drop_column("notifications", "secrecy")
