from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

# One row per register (numbering series: `series` is the register's id) and year, incoming and
# outgoing alike; taking a number locks the row until the transaction ends, so numbers are gapless
# (see registers.take_number).
counters = Table(
    "counters",
    metadata,
    Column("series", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("last_number", BigInteger, nullable=False),
    PrimaryKeyConstraint("series", "year"),
)

# Numbers issued and then cancelled, with the reason; a cancelled number stays taken (the counter
# never goes back), and it belongs to a year whose counter exists.
cancelled_numbers = Table(
    "cancelled_numbers",
    metadata,
    Column("register_id", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("cancelled_by", String(128), nullable=False),
    Column("cancelled_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("register_id", "year", "number"),
    ForeignKeyConstraint(["register_id", "year"], ["counters.series", "counters.year"]),
)

# The agency's catalogue of document types (tên loại văn bản) and abbreviations, as data
# (`document_types.DEFAULT_CATALOGUE` seeded by migration). A công văn has no abbreviation.
document_types = Table(
    "document_types",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("abbreviation", String(10), nullable=True),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
)

# The agency's numbering registers (sổ): `numbering.Register` as rows. Each number series is the
# register's `counters` row of the year; `document_types` empty means every type not claimed by a
# register naming it (outgoing type groups).
registers = Table(
    "registers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("secrecy_levels", ARRAY(String(16)), nullable=False),
    Column("document_types", ARRAY(String(100)), nullable=False, server_default=text("'{}'")),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    CheckConstraint("kind IN ('incoming', 'outgoing')", name="kind"),
)

# Every document of the registry, incoming and outgoing (ADR 0009): lists, search and visibility
# run over one table. Direction-only columns are NULL for the other direction.
documents = Table(
    "documents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("direction", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("document_type", String(100), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("secrecy", String(16), nullable=False),
    # The order of `Clearance` (0 none .. 3 top secret), for the visibility predicate.
    Column("secrecy_rank", SmallInteger, nullable=False),
    # Số and ký hiệu: given for incoming documents, set at issue for outgoing ones.
    Column("code_number", String(11), nullable=True),
    Column("code_notation", String(30), nullable=True),
    # search_text.search_terms of số + ký hiệu ("5 qd ubnd"): the duplicate rule's key.
    Column("number_key", String(64), nullable=True),
    # Mã định danh văn bản (edXML DocumentId).
    Column("identifier", String(100), nullable=True),
    Column("issuer_code", String(13), nullable=True),
    Column("issuer_name", String(200), nullable=True),
    Column("issued_date", Date, nullable=True),
    Column("language", String(8), nullable=False, server_default=text("'vi'")),
    Column("page_amount", Integer, nullable=True),
    Column("description", String(500), nullable=True),
    Column("signer_competence", String(8), nullable=True),
    Column("signer_position", String(100), nullable=True),
    Column("signer_name", String(100), nullable=True),
    Column("due_date", Date, nullable=True),
    # The register that numbered it, the year of that register and the number (số đến, or the
    # số of an issued outgoing document); NULL for a draft.
    Column("register_id", String(32), nullable=True),
    Column("reg_year", Integer, nullable=True),
    Column("reg_number", BigInteger, nullable=True),
    # Arrival of an incoming document, issue of an outgoing one.
    Column("registered_at", DateTime(timezone=True), nullable=True),
    # Incoming: the lead unit once assigned; outgoing: the drafting unit.
    Column("unit_code", String(64), nullable=True),
    # Who may read it besides READ_ALL_ROLES: "unit:<code>" and "person:<id>" (ADR 0009, 4).
    Column("reach", ARRAY(String(100)), nullable=False, server_default=text("'{}'")),
    # search_text.document_search_text of the head fields, and the tsvector over it and the body.
    Column("search_head", Text, nullable=False, server_default=text("''")),
    Column("search_tsv", TSVECTOR, nullable=False, server_default=text("''::tsvector")),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("row_version", Integer, nullable=False, server_default=text("1")),
    # Incoming only.
    Column("received_via", String(16), nullable=True),
    Column("to_places", String(1000), nullable=True),
    # Outgoing only.
    Column("issued_amount", Integer, nullable=True),
    Column("current_version", Integer, nullable=True),
    Column("issued_by", String(128), nullable=True),
    Column("recalled_by", String(36), nullable=True),
    CheckConstraint("direction IN ('incoming', 'outgoing')", name="direction"),
    CheckConstraint(
        "(direction = 'incoming' AND status IN ('registered', 'recalled')) OR "
        "(direction = 'outgoing' AND status IN ('draft', 'issued', 'cancelled', 'recalled'))",
        name="status",
    ),
    # Everything but a draft is numbered and dated.
    CheckConstraint(
        "status = 'draft' OR (register_id IS NOT NULL AND reg_year IS NOT NULL AND "
        "reg_number IS NOT NULL AND registered_at IS NOT NULL AND code_number IS NOT NULL "
        "AND code_notation IS NOT NULL AND issued_date IS NOT NULL AND issuer_code IS NOT NULL)",
        name="numbered",
    ),
    CheckConstraint(
        "direction = 'outgoing' OR received_via IN ('electronic', 'paper')", name="received_via"
    ),
    CheckConstraint("direction = 'incoming' OR current_version >= 1", name="current_version"),
    ForeignKeyConstraint(["document_type"], ["document_types.name"]),
    ForeignKeyConstraint(["register_id"], ["registers.id"]),
    UniqueConstraint("register_id", "reg_year", "reg_number", name="uq_documents_register_number"),
)
# Our own identifiers never repeat within a secrecy level. Each level numbers in a series of its
# own (Decree 30/2020, art. 15), so a secret document may share its date and số/ký hiệu, and so
# its identifier, with an ordinary one.
# Partial indexes by direction also say what their key is not (IS NOT NULL): a predicate of the
# direction alone let the planner take one as a bitmap of every row of that direction and AND
# it into a filtered search's rows (750 000 rows, 0.12 s at 1M; ADR 0009). Their own lookups
# (key = value) imply it.
Index(
    "uq_documents_outgoing_identifier",
    documents.c.secrecy,
    documents.c.identifier,
    unique=True,
    postgresql_where=text("direction = 'outgoing' AND identifier IS NOT NULL"),
)
Index(
    "ix_documents_incoming_identifier",
    documents.c.identifier,
    postgresql_where=text("direction = 'incoming' AND identifier IS NOT NULL"),
)
Index(
    "ix_documents_incoming_number_key",
    documents.c.issuer_code,
    documents.c.number_key,
    postgresql_where=text("direction = 'incoming' AND number_key IS NOT NULL"),
)
Index(
    "ix_documents_direction_registered",
    documents.c.direction,
    documents.c.registered_at.desc(),
    documents.c.id.desc(),
)
# Search over both directions walks this one, newest first, and stops after a page of matches.
Index("ix_documents_registered", documents.c.registered_at.desc(), documents.c.id.desc())
Index("ix_documents_type_registered", documents.c.document_type, documents.c.registered_at.desc())
Index("ix_documents_unit_registered", documents.c.unit_code, documents.c.registered_at.desc())
Index("ix_documents_issued_date", documents.c.issued_date)
Index("ix_documents_reach", documents.c.reach, postgresql_using="gin")
# The text with the reach: a reader by reach's matches come from one scan of words and
# principals together (at 1M, 11 ms against 33-44 ms for two bitmaps ANDed; ADR 0009).
Index("ix_documents_search", documents.c.search_tsv, documents.c.reach, postgresql_using="gin")
# One text index per registration year, with the reach: a search within one year (a range of
# days inside it) is served by its year's, a tenth of the whole at ten years. Years outside
# these are served by the whole one (a later migration adds years before they come).
SEARCH_INDEX_YEARS = range(2015, 2041)
for _year in SEARCH_INDEX_YEARS:
    Index(
        f"ix_documents_search_y{_year}",
        documents.c.search_tsv,
        documents.c.reach,
        postgresql_using="gin",
        postgresql_where=documents.c.reg_year == _year,
    )
Index(
    "ix_documents_search_head",
    documents.c.search_head,
    postgresql_using="gin",
    postgresql_ops={"search_head": "gin_trgm_ops"},
)

# The vocabulary of the search: every word of two letters or more (a-z) some document's search
# text holds, added in the same transaction as the text, so it is complete: a typed prefix is
# looked up in it (the words it begins), and a typo corrected against it (pg_trgm's own recipe
# for spelling with full-text search): thousands of words, not a million heads.
search_words = Table(
    "search_words",
    metadata,
    # Byte order (C): the words a prefix begins are one range of the primary key.
    Column("word", Text(collation="C"), nullable=False),
    PrimaryKeyConstraint("word"),
)
Index(
    "ix_search_words_trgm",
    search_words.c.word,
    postgresql_using="gin",
    postgresql_ops={"word": "gin_trgm_ops"},
)

# The files of a document held by the archive: an incoming document's main file (its scan when
# it came on paper) and attachments; an outgoing document's attachments (its main file is the
# current version's).
document_files = Table(
    "document_files",
    metadata,
    Column("document_id", String(36), nullable=False),
    Column("role", String(16), nullable=False),
    Column("position", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("file_name", String(255), nullable=False),
    PrimaryKeyConstraint("document_id", "role", "position"),
    ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
    CheckConstraint("role IN ('main', 'attachment')", name="role"),
)

# The versions of an outgoing draft: each upload adds one, none changes.
document_versions = Table(
    "document_versions",
    metadata,
    Column("document_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("uploaded_by", String(128), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("note", String(500), nullable=True),
    PrimaryKeyConstraint("document_id", "version"),
    ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
)

# The digital signatures added to an outgoing document's PDF by the signing service, each a new
# file in the archive made from `source_sha256` by incremental update; none changes.
document_signatures = Table(
    "document_signatures",
    metadata,
    Column("document_id", String(36), nullable=False),
    # The signing service's id: recording the same one again changes nothing.
    Column("id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("signed_by", String(128), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Column("certificate_subject", String(1000), nullable=True),
    PrimaryKeyConstraint("document_id", "id"),
    ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
    CheckConstraint("kind IN ('leader', 'agency', 'agency_text')", name="kind"),
)

# Nơi nhận of an outgoing document, by mã định danh.
document_recipients = Table(
    "document_recipients",
    metadata,
    Column("document_id", String(36), nullable=False),
    Column("position", Integer, nullable=False),
    Column("organ_id", String(13), nullable=False),
    Column("organ_name", String(200), nullable=True),
    PrimaryKeyConstraint("document_id", "position"),
    ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
)

# Relations to other documents: of this registry (target_id), or named the way edXML's
# ResponseFor names another agency's document.
document_relations = Table(
    "document_relations",
    metadata,
    Column("document_id", String(36), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("target_id", String(36), nullable=True),
    Column("target_identifier", String(100), nullable=True),
    Column("target_organ_id", String(13), nullable=True),
    Column("target_code", String(42), nullable=True),
    Column("target_issued_date", Date, nullable=True),
    PrimaryKeyConstraint("document_id", "position"),
    ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(["target_id"], ["documents.id"]),
    CheckConstraint("kind IN ('response_for', 'amends', 'replaces', 'recalls')", name="kind"),
)

# Duplicate warnings found when an incoming document was registered (ADR 0009, 3).
incoming_duplicates = Table(
    "incoming_duplicates",
    metadata,
    Column("document_id", String(36), nullable=False),
    Column("duplicate_of", String(36), nullable=False),
    Column("rule", String(16), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("document_id", "duplicate_of", "rule"),
    ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(["duplicate_of"], ["documents.id"], ondelete="CASCADE"),
    CheckConstraint("rule IN ('identifier', 'number')", name="rule"),
)

# The agency archive's record of a document (`model.ArchiveRecord`): written when a dossier holding
# it is handed over (or destroyed), never deleted. A table of its own, not columns of `documents`:
# a handover marks up to 10 000 documents at once, and an update of their `documents` rows would
# write each row again into every index of that table, the text indexes (head and body) with all
# their words among them; here it is one small row each. `documents.id` is unique across both
# directions, so the id alone is the key; the mark checks the direction named against the row.
document_archive = Table(
    "document_archive",
    metadata,
    Column("document_id", String(36), primary_key=True),
    # The archive service's dossier: the first handed over with it, or the destroyed one.
    Column("dossier_id", String(36), nullable=False),
    Column("archived_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
    Column("disposition_id", String(36), nullable=True),
    # No cascade: a document the archive keeps is not deleted.
    ForeignKeyConstraint(["document_id"], ["documents.id"]),
    CheckConstraint("(destroyed_at IS NULL) = (disposition_id IS NULL)", name="destroyed"),
)

# Registrations asked with a request id (e.g. exchange's "exchange:<inbox item>"): a repeat of
# the request answers the document registered the first time instead of numbering another.
registration_requests = Table(
    "registration_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("document_id", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
)

# The text of a document's main file (PDF text layer or OCR), searchable through search_tsv.
document_texts = Table(
    "document_texts",
    metadata,
    Column("document_id", String(36), primary_key=True),
    Column("source", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("extracted_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
)

# Text extraction jobs (digitization), claimed by the text worker with SKIP LOCKED.
text_jobs = Table(
    "text_jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("document_id", String(36), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("pages_total", Integer, nullable=False, server_default=text("0")),
    Column("pages_done", Integer, nullable=False, server_default=text("0")),
    Column("warnings", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("error", String(1000), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
    CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
)
Index("ix_text_jobs_document", text_jobs.c.document_id, text_jobs.c.created_at.desc())
Index(
    "ix_text_jobs_pending",
    text_jobs.c.created_at,
    postgresql_where=text("state IN ('queued', 'running')"),
)
