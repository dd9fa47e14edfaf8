"""documents registry: one documents table, registers, types, versions, texts (ADR 0009)

Incoming documents move from `incoming_documents` to `documents` with their ids, numbers and
files; their search text is computed here.

Revision ID: ad5fc67b100b
Revises: c4d2e7f1a9b3
Create Date: 2026-11-29 02:45:05.030124
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ad5fc67b100b"
down_revision: str | None = "c4d2e7f1a9b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Decree 30/2020, appendix III, as of this revision (later changes are migrations of their own).
DEFAULT_TYPES = (
    ("Nghị quyết", "NQ"),
    ("Quyết định", "QĐ"),
    ("Chỉ thị", "CT"),
    ("Quy chế", "QC"),
    ("Quy định", "QyĐ"),
    ("Thông cáo", "TC"),
    ("Thông báo", "TB"),
    ("Hướng dẫn", "HD"),
    ("Chương trình", "CTr"),
    ("Kế hoạch", "KH"),
    ("Phương án", "PA"),
    ("Đề án", "ĐA"),
    ("Dự án", "DA"),
    ("Báo cáo", "BC"),
    ("Biên bản", "BB"),
    ("Tờ trình", "TTr"),
    ("Hợp đồng", "HĐ"),
    ("Công điện", "CĐ"),
    ("Bản ghi nhớ", "BGN"),
    ("Bản thỏa thuận", "BTT"),
    ("Giấy ủy quyền", "GUQ"),
    ("Giấy mời", "GM"),
    ("Giấy giới thiệu", "GGT"),
    ("Giấy nghỉ phép", "GNP"),
    ("Phiếu gửi", "PG"),
    ("Phiếu chuyển", "PC"),
    ("Phiếu báo", "PB"),
    ("Bản sao y", "SY"),
    ("Bản trích sao", "TrS"),
    ("Bản sao lục", "SL"),
    ("Công văn", None),
)
SECRECY_LEVELS = ("none", "confidential", "secret", "top_secret")
SECRECY_NAMES = {
    "none": "",
    "confidential": " (mật)",
    "secret": " (tối mật)",
    "top_secret": " (tuyệt mật)",
}
KIND_NAMES = {"incoming": "Sổ đăng ký văn bản đến", "outgoing": "Sổ đăng ký văn bản đi"}


def _register_id(kind: str, secrecy: str) -> str:
    # The series names the counters have used since 3a8e5b1c9d47.
    return kind if secrecy == "none" else f"{kind}-{secrecy}"


def upgrade() -> None:
    # Trigram matching of numbers and names; trusted, so the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "document_types",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("abbreviation", sa.String(length=10), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_document_types")),
    )
    op.create_table(
        "registers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("secrecy_levels", postgresql.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column(
            "document_types",
            postgresql.ARRAY(sa.String(length=100)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint("kind IN ('incoming', 'outgoing')", name=op.f("ck_registers_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registers")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document_type", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("secrecy", sa.String(length=16), nullable=False),
        sa.Column("secrecy_rank", sa.SmallInteger(), nullable=False),
        sa.Column("code_number", sa.String(length=11), nullable=True),
        sa.Column("code_notation", sa.String(length=30), nullable=True),
        sa.Column("number_key", sa.String(length=64), nullable=True),
        sa.Column("identifier", sa.String(length=100), nullable=True),
        sa.Column("issuer_code", sa.String(length=13), nullable=True),
        sa.Column("issuer_name", sa.String(length=200), nullable=True),
        sa.Column("issued_date", sa.Date(), nullable=True),
        sa.Column("language", sa.String(length=8), server_default=sa.text("'vi'"), nullable=False),
        sa.Column("page_amount", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("signer_competence", sa.String(length=8), nullable=True),
        sa.Column("signer_position", sa.String(length=100), nullable=True),
        sa.Column("signer_name", sa.String(length=100), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("register_id", sa.String(length=32), nullable=True),
        sa.Column("reg_year", sa.Integer(), nullable=True),
        sa.Column("reg_number", sa.BigInteger(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unit_code", sa.String(length=64), nullable=True),
        sa.Column(
            "reach",
            postgresql.ARRAY(sa.String(length=100)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("search_head", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column(
            "search_tsv",
            postgresql.TSVECTOR(),
            server_default=sa.text("''::tsvector"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("received_via", sa.String(length=16), nullable=True),
        sa.Column("to_places", sa.String(length=1000), nullable=True),
        sa.Column("issued_amount", sa.Integer(), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("issued_by", sa.String(length=128), nullable=True),
        sa.Column("recalled_by", sa.String(length=36), nullable=True),
        sa.CheckConstraint(
            "(direction = 'incoming' AND status IN ('registered', 'recalled')) OR (direction = 'outgoing' AND status IN ('draft', 'issued', 'cancelled', 'recalled'))",
            name=op.f("ck_documents_status"),
        ),
        sa.CheckConstraint(
            "direction = 'incoming' OR current_version >= 1",
            name=op.f("ck_documents_current_version"),
        ),
        sa.CheckConstraint(
            "direction = 'outgoing' OR received_via IN ('electronic', 'paper')",
            name=op.f("ck_documents_received_via"),
        ),
        sa.CheckConstraint(
            "direction IN ('incoming', 'outgoing')", name=op.f("ck_documents_direction")
        ),
        sa.CheckConstraint(
            "status = 'draft' OR (register_id IS NOT NULL AND reg_year IS NOT NULL AND reg_number IS NOT NULL AND registered_at IS NOT NULL AND code_number IS NOT NULL AND code_notation IS NOT NULL AND issued_date IS NOT NULL AND issuer_code IS NOT NULL)",
            name=op.f("ck_documents_numbered"),
        ),
        sa.ForeignKeyConstraint(
            ["document_type"],
            ["document_types.name"],
            name=op.f("fk_documents_document_type_document_types"),
        ),
        sa.ForeignKeyConstraint(
            ["register_id"], ["registers.id"], name=op.f("fk_documents_register_id_registers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint(
            "register_id", "reg_year", "reg_number", name="uq_documents_register_number"
        ),
    )
    op.create_index(
        "ix_documents_direction_registered",
        "documents",
        ["direction", sa.literal_column("registered_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    # Search over both directions, newest first (ADR 0009, 4: measured at 100k).
    op.create_index(
        "ix_documents_registered",
        "documents",
        [sa.literal_column("registered_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_documents_incoming_identifier",
        "documents",
        ["identifier"],
        unique=False,
        postgresql_where=sa.text("direction = 'incoming' AND identifier IS NOT NULL"),
    )
    op.create_index(
        "ix_documents_incoming_number_key",
        "documents",
        ["issuer_code", "number_key"],
        unique=False,
        postgresql_where=sa.text("direction = 'incoming'"),
    )
    op.create_index("ix_documents_issued_date", "documents", ["issued_date"], unique=False)
    op.create_index(
        "ix_documents_reach", "documents", ["reach"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_documents_search_head",
        "documents",
        ["search_head"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_head": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_documents_search_tsv", "documents", ["search_tsv"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_documents_type_registered",
        "documents",
        ["document_type", sa.literal_column("registered_at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_documents_unit_registered",
        "documents",
        ["unit_code", sa.literal_column("registered_at DESC")],
        unique=False,
    )
    op.create_index(
        "uq_documents_outgoing_identifier",
        "documents",
        ["secrecy", "identifier"],
        unique=True,
        postgresql_where=sa.text("direction = 'outgoing'"),
    )
    op.create_table(
        "document_files",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.CheckConstraint("role IN ('main', 'attachment')", name=op.f("ck_document_files_role")),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_files_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "role", "position", name=op.f("pk_document_files")),
    )
    op.create_table(
        "document_recipients",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("organ_id", sa.String(length=13), nullable=False),
        sa.Column("organ_name", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_recipients_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "position", name=op.f("pk_document_recipients")),
    )
    op.create_table(
        "document_relations",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=True),
        sa.Column("target_identifier", sa.String(length=100), nullable=True),
        sa.Column("target_organ_id", sa.String(length=13), nullable=True),
        sa.Column("target_code", sa.String(length=42), nullable=True),
        sa.Column("target_issued_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('response_for', 'amends', 'replaces', 'recalls')",
            name=op.f("ck_document_relations_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_relations_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["documents.id"], name=op.f("fk_document_relations_target_id_documents")
        ),
        sa.PrimaryKeyConstraint("document_id", "position", name=op.f("pk_document_relations")),
    )
    op.create_table(
        "document_texts",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("extracted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_texts_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_texts")),
    )
    op.create_table(
        "document_versions",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by", sa.String(length=128), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "version", name=op.f("pk_document_versions")),
    )
    op.create_table(
        "incoming_duplicates",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("duplicate_of", sa.String(length=36), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rule IN ('identifier', 'number')", name=op.f("ck_incoming_duplicates_rule")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_incoming_duplicates_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["documents.id"],
            name=op.f("fk_incoming_duplicates_duplicate_of_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "document_id", "duplicate_of", "rule", name=op.f("pk_incoming_duplicates")
        ),
    )
    op.create_table(
        "text_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("pages_total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("pages_done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "warnings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_text_jobs_state")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_text_jobs_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_jobs")),
    )
    op.create_index(
        "ix_text_jobs_document",
        "text_jobs",
        ["document_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_text_jobs_pending",
        "text_jobs",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("state IN ('queued', 'running')"),
    )
    _seed()
    _move_incoming()
    op.drop_table("incoming_documents")


def _seed() -> None:
    types = sa.table(
        "document_types",
        sa.column("name"),
        sa.column("abbreviation"),
        sa.column("position"),
    )
    op.bulk_insert(
        types,
        [
            {"name": name, "abbreviation": abbreviation, "position": position}
            for position, (name, abbreviation) in enumerate(DEFAULT_TYPES, start=1)
        ],
    )
    registers = sa.table(
        "registers",
        sa.column("id"),
        sa.column("name"),
        sa.column("kind"),
        sa.column("secrecy_levels", postgresql.ARRAY(sa.String())),
        sa.column("position"),
    )
    rows: list[dict[str, object]] = []
    for kind in ("incoming", "outgoing"):
        for secrecy in SECRECY_LEVELS:
            rows.append(
                {
                    "id": _register_id(kind, secrecy),
                    "name": KIND_NAMES[kind] + SECRECY_NAMES[secrecy],
                    "kind": kind,
                    "secrecy_levels": [secrecy],
                    "position": len(rows) + 1,
                }
            )
    op.bulk_insert(registers, rows)


def _move_incoming() -> None:
    # Imported here: the normalisation the service indexes with, so old and new rows match.
    from vanban.documents.domain.search_text import document_search_text, search_terms

    bind = op.get_bind()
    # Types an old registration named that the catalogue lacks stay readable, inactive.
    bind.execute(
        sa.text(
            "INSERT INTO document_types (name, abbreviation, position, active) "
            "SELECT DISTINCT document_type, NULL, 1000, false FROM incoming_documents "
            "ON CONFLICT (name) DO NOTHING"
        )
    )
    ranks = {level: rank for rank, level in enumerate(SECRECY_LEVELS)}
    rows = bind.execute(sa.text("SELECT * FROM incoming_documents")).mappings().all()
    for row in rows:
        head = document_search_text(
            subject=row["subject"],
            code_number=row["code_number"],
            code_notation=row["code_notation"],
            issuer_name=row["issuer_name"],
        )
        bind.execute(
            sa.text(
                "INSERT INTO documents (id, direction, status, document_type, subject, priority, "
                "secrecy, secrecy_rank, code_number, code_notation, number_key, issuer_code, "
                "issuer_name, issued_date, register_id, reg_year, reg_number, registered_at, "
                "search_head, search_tsv, created_by, created_at, updated_at, received_via) "
                "VALUES (:id, 'incoming', 'registered', :document_type, :subject, :priority, "
                ":secrecy, :rank, :code_number, :code_notation, :number_key, :issuer_code, "
                ":issuer_name, :issued_date, :register_id, :arrival_year, :arrival_number, "
                ":arrived_at, :head, to_tsvector('simple', :head), :registered_by, :arrived_at, "
                ":arrived_at, 'electronic')"
            ),
            {
                **row,
                "rank": ranks[row["secrecy"]],
                "number_key": " ".join(
                    search_terms(row["code_number"]) + search_terms(row["code_notation"])
                ),
                "register_id": _register_id("incoming", row["secrecy"]),
                "head": head,
            },
        )
        bind.execute(
            sa.text(
                "INSERT INTO document_files (document_id, role, position, sha256, size, "
                "content_type, file_name) VALUES (:id, 'main', 0, :file_sha256, :file_size, "
                ":file_content_type, :file_name)"
            ),
            dict(row),
        )


def downgrade() -> None:
    # Incoming documents go back to their table; outgoing ones cannot and are lost.
    op.create_table(
        "incoming_documents",
        sa.Column("id", sa.VARCHAR(length=36), autoincrement=False, nullable=False),
        sa.Column("arrival_year", sa.INTEGER(), autoincrement=False, nullable=False),
        sa.Column("arrival_number", sa.BIGINT(), autoincrement=False, nullable=False),
        sa.Column(
            "arrived_at", postgresql.TIMESTAMP(timezone=True), autoincrement=False, nullable=False
        ),
        sa.Column("issuer_code", sa.VARCHAR(length=13), autoincrement=False, nullable=False),
        sa.Column("issuer_name", sa.VARCHAR(length=200), autoincrement=False, nullable=False),
        sa.Column("code_number", sa.VARCHAR(length=11), autoincrement=False, nullable=False),
        sa.Column("code_notation", sa.VARCHAR(length=30), autoincrement=False, nullable=False),
        sa.Column("issued_date", sa.DATE(), autoincrement=False, nullable=False),
        sa.Column("document_type", sa.VARCHAR(length=100), autoincrement=False, nullable=False),
        sa.Column("subject", sa.VARCHAR(length=500), autoincrement=False, nullable=False),
        sa.Column("priority", sa.VARCHAR(length=16), autoincrement=False, nullable=False),
        sa.Column("secrecy", sa.VARCHAR(length=16), autoincrement=False, nullable=False),
        sa.Column("file_sha256", sa.VARCHAR(length=64), autoincrement=False, nullable=False),
        sa.Column("file_size", sa.BIGINT(), autoincrement=False, nullable=False),
        sa.Column("file_content_type", sa.VARCHAR(length=127), autoincrement=False, nullable=False),
        sa.Column("file_name", sa.VARCHAR(length=255), autoincrement=False, nullable=False),
        sa.Column("registered_by", sa.VARCHAR(length=128), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_documents")),
        sa.UniqueConstraint(
            "arrival_year", "secrecy", "arrival_number", name=op.f("uq_incoming_arrival_register")
        ),
    )
    op.execute(
        "INSERT INTO incoming_documents SELECT d.id, d.reg_year, d.reg_number, d.registered_at, "
        "d.issuer_code, d.issuer_name, d.code_number, d.code_notation, d.issued_date, "
        "d.document_type, d.subject, d.priority, d.secrecy, f.sha256, f.size, f.content_type, "
        "f.file_name, d.created_by FROM documents d JOIN document_files f "
        "ON f.document_id = d.id AND f.role = 'main' AND f.position = 0 "
        "WHERE d.direction = 'incoming'"
    )
    op.drop_index(
        "ix_text_jobs_pending",
        table_name="text_jobs",
        postgresql_where=sa.text("state IN ('queued', 'running')"),
    )
    op.drop_index("ix_text_jobs_document", table_name="text_jobs")
    op.drop_table("text_jobs")
    op.drop_table("incoming_duplicates")
    op.drop_table("document_versions")
    op.drop_table("document_texts")
    op.drop_table("document_relations")
    op.drop_table("document_recipients")
    op.drop_table("document_files")
    op.drop_index(
        "uq_documents_outgoing_identifier",
        table_name="documents",
        postgresql_where=sa.text("direction = 'outgoing'"),
    )
    op.drop_index("ix_documents_unit_registered", table_name="documents")
    op.drop_index("ix_documents_type_registered", table_name="documents")
    op.drop_index("ix_documents_search_tsv", table_name="documents", postgresql_using="gin")
    op.drop_index(
        "ix_documents_search_head",
        table_name="documents",
        postgresql_using="gin",
        postgresql_ops={"search_head": "gin_trgm_ops"},
    )
    op.drop_index("ix_documents_reach", table_name="documents", postgresql_using="gin")
    op.drop_index("ix_documents_issued_date", table_name="documents")
    op.drop_index(
        "ix_documents_incoming_number_key",
        table_name="documents",
        postgresql_where=sa.text("direction = 'incoming'"),
    )
    op.drop_index(
        "ix_documents_incoming_identifier",
        table_name="documents",
        postgresql_where=sa.text("direction = 'incoming' AND identifier IS NOT NULL"),
    )
    op.drop_index("ix_documents_registered", table_name="documents")
    op.drop_index("ix_documents_direction_registered", table_name="documents")
    op.drop_table("documents")
    op.drop_table("registers")
    op.drop_table("document_types")
