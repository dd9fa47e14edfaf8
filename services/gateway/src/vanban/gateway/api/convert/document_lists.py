"""Document lists and search between the REST API and the documents contract."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.convert.common import enum_names, enum_values
from vanban.gateway.api.schemas.document_lists import (
    DocumentPage,
    DocumentSummaryOut,
    Priority,
    SecrecyLevel,
    SortKey,
    Status,
)
from vanban.platform.convert import from_timestamp

DIRECTION = enum_values(docs.Direction)
DIRECTION_NAME = enum_names(docs.Direction)
STATUS = enum_values(docs.DocumentStatus)
STATUS_NAME = enum_names(docs.DocumentStatus)
PRIORITY = enum_values(docs.Priority)
PRIORITY_NAME = enum_names(docs.Priority)
SECRECY = enum_values(docs.Secrecy)
SECRECY_NAME = enum_names(docs.Secrecy)
RECEIVED_VIA_NAME = enum_names(docs.ReceivedVia)
SORT = {
    "registered_at": docs.DOCUMENT_SORT_REGISTERED_AT,
    "issued_date": docs.DOCUMENT_SORT_ISSUED_DATE,
    "number": docs.DOCUMENT_SORT_NUMBER,
}


def document_filter(
    *,
    direction: str | None = None,
    document_types: Sequence[str] = (),
    registered_from: date | None = None,
    registered_to: date | None = None,
    priorities: Sequence[Priority] = (),
    statuses: Sequence[Status] = (),
    unit: str | None = None,
    duplicates_only: bool = False,
    secrecy: Sequence[SecrecyLevel] = (),
) -> docs.DocumentFilter:
    return docs.DocumentFilter(
        direction=DIRECTION[direction] if direction else docs.DIRECTION_UNSPECIFIED,
        document_types=list(document_types),
        registered_from=registered_from.isoformat() if registered_from else "",
        registered_to=registered_to.isoformat() if registered_to else "",
        priorities=[PRIORITY[p] for p in priorities],
        statuses=[STATUS[s] for s in statuses],
        unit=unit or "",
        duplicates_only=duplicates_only,
        secrecy=[SECRECY[s] for s in secrecy],
    )


def sort_of(sort: SortKey) -> docs.DocumentSort.ValueType:
    return SORT[sort]


def summary_out(summary: docs.DocumentSummary) -> DocumentSummaryOut:
    return DocumentSummaryOut(
        id=summary.id,
        direction=DIRECTION_NAME[summary.direction],
        status=STATUS_NAME[summary.status],
        document_type=summary.document_type,
        subject=summary.subject,
        code_number=summary.code_number or None,
        code_notation=summary.code_notation or None,
        issued_date=date.fromisoformat(summary.issued_date) if summary.issued_date else None,
        issuer_code=summary.issuer_code or None,
        issuer_name=summary.issuer_name or None,
        register_id=summary.register_id or None,
        number=summary.number or None,
        year=summary.year or None,
        registered_at=(
            from_timestamp(summary.registered_at) if summary.HasField("registered_at") else None
        ),
        priority=PRIORITY_NAME.get(summary.priority, "normal"),
        # An unknown level is shown as the highest, never as "none".
        secrecy=SECRECY_NAME.get(summary.secrecy, "top_secret"),
        unit=summary.unit or None,
        received_via=RECEIVED_VIA_NAME.get(summary.received_via),
        duplicate_count=summary.duplicate_count,
    )


def page_out(
    answer: docs.SearchDocumentsResponse
    | docs.ListIncomingDocumentsResponse
    | docs.ListOutgoingDocumentsResponse,
) -> DocumentPage:
    return DocumentPage(
        items=[summary_out(s) for s in answer.documents],
        next_page_token=answer.next_page_token or None,
        total=answer.total,
        total_exact=answer.total_exact,
    )
