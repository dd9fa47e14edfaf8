"""a register (numbering series) per secrecy level

Revision ID: 3a8e5b1c9d47
Revises: 751e380e4323
Create Date: 2026-11-28 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3a8e5b1c9d47"
down_revision: str | None = "751e380e4323"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("uq_incoming_arrival", "incoming_documents", type_="unique")
    op.create_unique_constraint(
        op.f("uq_incoming_arrival_register"),
        "incoming_documents",
        ["arrival_year", "secrecy", "arrival_number"],
    )
    # Secret documents registered before took numbers from the shared register. Each secret
    # register of a year continues above the highest of them, so that no number repeats
    # within a register.
    op.execute(
        sa.text(
            "INSERT INTO counters (series, year, last_number) "
            "SELECT 'incoming-' || secrecy, arrival_year, max(arrival_number) "
            "FROM incoming_documents WHERE secrecy <> 'none' "
            "GROUP BY secrecy, arrival_year "
            "ON CONFLICT (series, year) DO NOTHING"
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM counters WHERE series LIKE 'incoming-%'"))
    op.drop_constraint(op.f("uq_incoming_arrival_register"), "incoming_documents", type_="unique")
    op.create_unique_constraint(
        "uq_incoming_arrival", "incoming_documents", ["arrival_year", "arrival_number"]
    )
