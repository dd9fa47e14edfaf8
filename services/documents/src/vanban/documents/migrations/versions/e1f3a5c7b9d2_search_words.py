"""search_words: the vocabulary typos are corrected against (ADR 0009, 4)

Filled from the search text of the documents there are; the service adds each document's
words as it writes its text.

Revision ID: e1f3a5c7b9d2
Revises: ad5fc67b100b
Create Date: 2026-11-29 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1f3a5c7b9d2"
down_revision: str | None = "ad5fc67b100b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_words",
        sa.Column("word", sa.Text(collation="C"), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    op.create_index(
        "ix_search_words_trgm",
        "search_words",
        ["word"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    # The words as the service keeps them (indexing.WORD): from a letter a-z, two or more.
    op.execute(
        "INSERT INTO search_words (word) "
        "SELECT word FROM ts_stat('SELECT search_tsv FROM documents') "
        "WHERE word ~ '^[a-z][a-z0-9]+$' "
        "ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.drop_index("ix_search_words_trgm", table_name="search_words", postgresql_using="gin")
    op.drop_table("search_words")
