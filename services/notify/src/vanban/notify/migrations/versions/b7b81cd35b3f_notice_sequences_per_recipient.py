"""notice sequences per recipient; unread index

Revision ID: b7b81cd35b3f
Revises: 5c1e7a9d3b20
Create Date: 2026-11-30 05:05:45.285225
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7b81cd35b3f"
down_revision: str | None = "5c1e7a9d3b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_sequences",
        sa.Column("recipient_id", sa.String(length=128), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("recipient_id", name=op.f("pk_notice_sequences")),
    )
    op.add_column("notifications", sa.Column("sequence", sa.BigInteger(), nullable=True))
    # Notices recorded before are numbered in the order they were made, and each recipient's
    # counter continues after their last.
    op.execute(
        sa.text(
            "UPDATE notifications SET sequence = numbered.n FROM ("
            " SELECT id, row_number() OVER ("
            "  PARTITION BY recipient_id ORDER BY created_at, id) AS n FROM notifications"
            ") AS numbered WHERE notifications.id = numbered.id"
        )
    )
    op.execute(
        sa.text(
            "INSERT INTO notice_sequences (recipient_id, last_sequence)"
            " SELECT recipient_id, max(sequence) FROM notifications GROUP BY recipient_id"
        )
    )
    op.alter_column("notifications", "sequence", nullable=False)
    op.create_index(
        "ix_notifications_recipient_unread",
        "notifications",
        ["recipient_id"],
        unique=False,
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_unique_constraint(
        "uq_notifications_recipient_sequence", "notifications", ["recipient_id", "sequence"]
    )


def downgrade() -> None:
    op.drop_constraint("uq_notifications_recipient_sequence", "notifications", type_="unique")
    op.drop_index(
        "ix_notifications_recipient_unread",
        table_name="notifications",
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.drop_column("notifications", "sequence")
    op.drop_table("notice_sequences")
