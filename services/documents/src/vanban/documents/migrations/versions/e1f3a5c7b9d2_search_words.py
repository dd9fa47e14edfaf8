"""search_words: the vocabulary prefixes and typos are looked up in (ADR 0009, 4)

Kept by a trigger on `documents`: whatever writes a search text (the service, an older
replica during a rolling deploy, a repair by hand) adds its words in the same transaction.
Filled here from the search texts there are.

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

# The words kept: the lexemes that begin with a letter a-z, two characters or more (a lexeme
# is at most 2 047 bytes, within a btree key). A prefix typed from a-z finds every lexeme it
# begins among them.
WORDS = "w ~ '^[a-z]' AND length(w) >= 2"


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
    # Sorted: two transactions bringing the same new words wait for each other in one order.
    op.execute(
        f"""
        CREATE FUNCTION documents_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_words (word)
            SELECT w FROM unnest(tsvector_to_array(NEW.search_tsv)) AS w
            WHERE {WORDS} ORDER BY w
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER documents_search_words "
        "AFTER INSERT OR UPDATE OF search_tsv ON documents "
        "FOR EACH ROW EXECUTE FUNCTION documents_search_words()"
    )
    op.execute(
        "INSERT INTO search_words (word) "
        "SELECT w FROM (SELECT word AS w FROM ts_stat('SELECT search_tsv FROM documents')) s "
        f"WHERE {WORDS} ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER documents_search_words ON documents")
    op.execute("DROP FUNCTION documents_search_words()")
    op.drop_index("ix_search_words_trgm", table_name="search_words", postgresql_using="gin")
    op.drop_table("search_words")
