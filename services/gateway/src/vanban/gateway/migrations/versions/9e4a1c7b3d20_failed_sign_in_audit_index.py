"""failed sign-ins in the audit log: an index for the sweep that ages them out

Revision ID: 9e4a1c7b3d20
Revises: 5b0c2f7e9a41
Create Date: 2026-11-29 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e4a1c7b3d20"
down_revision: str | None = "5b0c2f7e9a41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_log_failed_sign_ins_occurred_at",
        "audit_log",
        ["occurred_at"],
        unique=False,
        postgresql_where=sa.text(
            "action IN ('session.sign_in_failed', 'session.locked', "
            "'session.account_throttled', 'session.address_throttled')"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_failed_sign_ins_occurred_at", table_name="audit_log")
