from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

# Every assignment is kept; the newest one of a document is its current assignment.
assignments = Table(
    "assignments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("document_id", String(36), nullable=False),
    # Empty when a person leads (lead_person).
    Column("lead_unit", String(32), nullable=False),
    Column("coordinating_units", JSON, nullable=False),
    Column("informed_units", JSON, nullable=False),
    Column("lead_person", String(128), nullable=True),
    Column("coordinating_people", JSON, nullable=False, server_default="[]"),
    Column("informed_people", JSON, nullable=False, server_default="[]"),
    Column("opinion", Text, nullable=False),
    Column("deadline", Date, nullable=True),
    Column("assigned_by", String(128), nullable=False),
    Column("on_behalf_of", String(128), nullable=True),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    # The document's secrecy when it was assigned: lists of tasks across documents (the overdue
    # list) show a task only to those cleared for it. Rows from before it was kept: top secret.
    Column("secrecy", String(16), nullable=False, server_default="top_secret"),
    Index("ix_assignments_document_id_assigned_at", "document_id", "assigned_at"),
)

# The tasks an assignment grows (ADR 0010, 1): its root tasks, one per unit or person it names,
# and the ones unit heads forward below them. The opinion stays on the assignment.
tasks = Table(
    "tasks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("assignment_id", String(36), nullable=False),
    Column("document_id", String(36), nullable=False),
    Column("parent_id", String(36), nullable=True),
    Column("role", String(16), nullable=False),
    Column("holder_unit", String(32), nullable=True),
    Column("holder_person", String(128), nullable=True),
    # "unit:<code>" or "person:<id>": a document reaches each of them once per assignment.
    Column("holder_key", String(140), nullable=False),
    Column("deadline", Date, nullable=True),
    Column("note", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("on_behalf_of", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("result", Text, nullable=False, server_default=""),
    Column("reply_document_id", String(36), nullable=True),
    Column("reason", Text, nullable=False, server_default=""),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(128), nullable=True),
    # The lead task of the document's current assignment: the agency's row of the statistics
    # counts each document once, however often it was reassigned.
    Column("current_lead", Boolean, nullable=False, server_default=text("false")),
    ForeignKeyConstraint(["assignment_id"], ["assignments.id"]),
    ForeignKeyConstraint(["parent_id"], ["tasks.id"]),
    CheckConstraint("(holder_unit IS NULL) <> (holder_person IS NULL)", name="one_holder"),
    CheckConstraint("role IN ('lead', 'coordinating', 'informed')", name="role"),
    CheckConstraint(
        "state IN ('assigned', 'in_progress', 'completed', 'returned', 'recalled')", name="state"
    ),
    # A document reaches each unit and person once per assignment; a task taken back
    # (recalled) may be sent again.
    Index(
        "uq_tasks_assignment_holder",
        "assignment_id",
        "holder_key",
        unique=True,
        postgresql_where=text("state <> 'recalled'"),
    ),
    Index("ix_tasks_document_id", "document_id"),
    Index("ix_tasks_parent_id", "parent_id"),
    Index("ix_tasks_holder_unit_created_at", "holder_unit", "created_at"),
    Index("ix_tasks_holder_person_created_at", "holder_person", "created_at"),
    # The statistics of a period (ADR 0010, 6).
    Index("ix_tasks_created_at", "created_at"),
    # Open tasks by deadline: reminders, overdue detection, /v1/stats/overdue.
    Index(
        "ix_tasks_open_deadline",
        "deadline",
        postgresql_where=text("state IN ('assigned', 'in_progress') AND deadline IS NOT NULL"),
    ),
)

# The exceptions to Monday-Friday (ADR 0010, 2): holidays on weekdays, weekend days worked.
calendar_days = Table(
    "calendar_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("working", Boolean, nullable=False),
    Column("name", String(200), nullable=False),
)

# When each open task's reminder and overdue notice fall due (ADR 0010, 3): every replica fires
# the rows that are due, each row by one transaction only (FOR UPDATE SKIP LOCKED), the event in
# the same transaction.
task_due = Table(
    "task_due",
    metadata,
    Column("task_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("fired_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("task_id", "kind"),
    ForeignKeyConstraint(["task_id"], ["tasks.id"]),
    CheckConstraint("kind IN ('due_soon', 'overdue')", name="kind"),
    Index("ix_task_due_waiting", "due_at", postgresql_where=text("fired_at IS NULL")),
)

# The approval chain of each document type (ADR 0010, 5): "" for every type without its own.
approval_chains = Table(
    "approval_chains",
    metadata,
    Column("document_type", String(100), primary_key=True),
    Column("steps", JSON, nullable=False),
    Column("updated_by", String(128), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One outgoing document's way through its chain: one row per document, its round counting the
# submissions; `waiting_for` ("person:<id>", "unit:<code>", "role:clerk") is whose decision it
# waits for, the key of the approvers' inbox.
approvals = Table(
    "approvals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("document_id", String(36), nullable=False, unique=True),
    Column("document_type", String(100), nullable=False),
    Column("drafting_unit", String(64), nullable=False),
    Column("secrecy", String(16), nullable=False),
    Column("signer", String(128), nullable=False),
    Column("steps", JSON, nullable=False),
    Column("position", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("round", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("waiting_for", String(140), nullable=True),
    # Set while the documents service numbers the draft (state 'numbering'): a return waits.
    Column("numbering_since", DateTime(timezone=True), nullable=True),
    Column("submitted_by", String(128), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(
        "state IN ('pending', 'approved', 'numbering', 'returned', 'issued')", name="state"
    ),
    Index(
        "ix_approvals_waiting_for_updated_at",
        "waiting_for",
        "updated_at",
        "id",
        postgresql_where=text("waiting_for IS NOT NULL"),
    ),
)

# Every submission and decision of an approval, kept (the chain's audit as the user reads it).
approval_actions = Table(
    "approval_actions",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("approval_id", String(36), nullable=False),
    Column("round", Integer, nullable=False),
    Column("step", String(16), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("on_behalf_of", String(128), nullable=True),
    Column("comment", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["approval_id"], ["approvals.id"]),
    Index("ix_approval_actions_approval_id", "approval_id", "id"),
)

# Work dossiers (hồ sơ công việc, ADR 0010 §8): a handler's grouping of one matter's documents and
# tasks, by reference.
work_dossiers = Table(
    "work_dossiers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Index("ix_work_dossiers_owner_created_at", "owner", "created_at", "id"),
)

work_dossier_items = Table(
    "work_dossier_items",
    metadata,
    Column("dossier_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref_id", String(36), nullable=False),
    Column("note", String(500), nullable=False),
    Column("added_by", String(128), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    # The document's secrecy when added: leaders reading another's dossier see what they may.
    Column("secrecy", String(16), nullable=False, server_default="top_secret"),
    PrimaryKeyConstraint("dossier_id", "kind", "ref_id"),
    ForeignKeyConstraint(["dossier_id"], ["work_dossiers.id"]),
    CheckConstraint("kind IN ('incoming', 'outgoing', 'task')", name="kind"),
)
