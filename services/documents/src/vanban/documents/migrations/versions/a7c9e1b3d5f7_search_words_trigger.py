"""search_words: an update adds only the words it brings, and a database migrated to the first
form of e1f3a5c7b9d2 (words added by the service, varchar(64)) gets the trigger (ADR 0009, 4)

Revision ID: a7c9e1b3d5f7
Revises: e1f3a5c7b9d2
Create Date: 2026-11-29 10:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7c9e1b3d5f7"
down_revision: str | None = "e1f3a5c7b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The words kept: the lexemes that begin with a letter a-z, two characters or more.
WORDS = "w ~ '^[a-z]' AND length(w) >= 2"


def upgrade() -> None:
    op.execute('ALTER TABLE search_words ALTER COLUMN word TYPE text COLLATE "C"')
    # An update adds the words the new text has and the old had not (issue rewrites the head
    # in the transaction that holds the register's number: a 200 000-character body's 28 000
    # words took 0.5 s to add again, 0.06 s without the trigger). Sorted: two transactions
    # bringing the same new words wait for each other in one order.
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION documents_search_words() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                INSERT INTO search_words (word)
                SELECT w FROM (
                    SELECT unnest(tsvector_to_array(NEW.search_tsv))
                    EXCEPT SELECT unnest(tsvector_to_array(OLD.search_tsv))
                ) AS brought (w)
                WHERE {WORDS} ORDER BY w
                ON CONFLICT DO NOTHING;
            ELSE
                INSERT INTO search_words (word)
                SELECT w FROM unnest(tsvector_to_array(NEW.search_tsv)) AS w
                WHERE {WORDS} ORDER BY w
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute("DROP TRIGGER IF EXISTS documents_search_words ON documents")
    op.execute(
        "CREATE TRIGGER documents_search_words AFTER INSERT ON documents "
        "FOR EACH ROW EXECUTE FUNCTION documents_search_words()"
    )
    op.execute(
        "CREATE TRIGGER documents_search_words_changed AFTER UPDATE OF search_tsv ON documents "
        "FOR EACH ROW WHEN (OLD.search_tsv IS DISTINCT FROM NEW.search_tsv) "
        "EXECUTE FUNCTION documents_search_words()"
    )
    # What a database without the trigger missed meanwhile.
    op.execute(
        "INSERT INTO search_words (word) "
        "SELECT w FROM (SELECT word AS w FROM ts_stat('SELECT search_tsv FROM documents')) s "
        f"WHERE {WORDS} ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER documents_search_words_changed ON documents")
    op.execute("DROP TRIGGER documents_search_words ON documents")
    op.execute(
        "CREATE TRIGGER documents_search_words AFTER INSERT OR UPDATE OF search_tsv "
        "ON documents FOR EACH ROW EXECUTE FUNCTION documents_search_words()"
    )
