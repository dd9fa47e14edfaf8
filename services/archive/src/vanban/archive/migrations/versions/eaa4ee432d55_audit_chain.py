"""audit chain: every audit entry carries its predecessor's hash and its own

Revision ID: eaa4ee432d55
Revises: 7d2f4c81e6a9
Create Date: 2026-11-29 23:05:35.237104
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vanban.platform.audit_chain import CHAIN_LOCK_KEY, GENESIS, chain

revision: str = "eaa4ee432d55"
down_revision: str | None = "7d2f4c81e6a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000

# The audit log as this revision leaves it, not as the code declares it later: an entry's hash
# covers every column but the id and the hash itself.
audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("on_behalf_of", sa.String),
    sa.column("action", sa.String),
    sa.column("resource", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("trace_id", sa.String),
    sa.column("previous_hash", sa.String),
    sa.column("entry_hash", sa.String),
)


def upgrade() -> None:
    # First, as every writer of the chain does: one that waited for it then reads the head this
    # migration leaves.
    op.execute(sa.select(sa.func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
    op.add_column("audit_log", sa.Column("previous_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("entry_hash", sa.String(length=64), nullable=True))
    _chain_existing_entries()
    op.alter_column("audit_log", "previous_hash", nullable=False)
    op.alter_column("audit_log", "entry_hash", nullable=False)


def _chain_existing_entries() -> None:
    """Chains the entries written before, in id order, a batch at a time. ADD COLUMN holds the
    table's exclusive lock to the end of the migration, so no entry slips in meanwhile."""
    connection = op.get_bind()
    hashed = [c for c in audit_log.c if c.name not in ("previous_hash", "entry_hash")]
    head, after = GENESIS, -1
    while True:
        rows = connection.execute(
            sa.select(*hashed).where(audit_log.c.id > after).order_by(audit_log.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        chained = chain([dict(row._mapping) for row in rows], head=head)
        connection.execute(
            # The SET clause comes from the parameters named like columns.
            audit_log.update().where(audit_log.c.id == sa.bindparam("row_id")),
            [
                {
                    "row_id": row["id"],
                    "previous_hash": row["previous_hash"],
                    "entry_hash": row["entry_hash"],
                }
                for row in chained
            ],
        )
        head, after = chained[-1]["entry_hash"], rows[-1].id


def downgrade() -> None:
    op.drop_column("audit_log", "entry_hash")
    op.drop_column("audit_log", "previous_hash")
