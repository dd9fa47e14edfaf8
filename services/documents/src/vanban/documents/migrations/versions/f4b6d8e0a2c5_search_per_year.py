"""A text index per registration year, 2015-2040 (ADR 0009, 4)

Partial GIN `(search_tsv, reach) WHERE reg_year = Y`: a search within one year is served by
its year's index. Years are fixed here (an empty index costs nothing); add the next ones by a
migration before 2040.

Revision ID: f4b6d8e0a2c5
Revises: b8d0f2a4c6e8
Create Date: 2026-11-29 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f4b6d8e0a2c5"
down_revision: str | None = "b8d0f2a4c6e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

YEARS = range(2015, 2041)


def upgrade() -> None:
    for year in YEARS:
        op.create_index(
            f"ix_documents_search_y{year}",
            "documents",
            ["search_tsv", "reach"],
            unique=False,
            postgresql_using="gin",
            postgresql_where=sa.text(f"reg_year = {year}"),
        )


def downgrade() -> None:
    for year in YEARS:
        op.drop_index(f"ix_documents_search_y{year}", table_name="documents")
