"""SearchDocuments, ListIncomingDocuments and ListOutgoingDocuments: one query builder behind
three RPCs (a mixin of DocumentRegistryServicer)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import grpc

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.documents.adapters.db.search import find_documents
from vanban.documents.adapters.grpc.convert import DIRECTION_TO_PB
from vanban.documents.domain.search import (
    DocumentQuery,
    Filter,
    Page,
    Sort,
    Summary,
    Viewer,
    make_query,
    parse_day,
)
from vanban.documents.domain.service import Reader
from vanban.platform.caller import Caller, current_caller
from vanban.platform.convert import SECRECY_TO_PB, to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import InvalidArgumentError, invalid_fields

DIRECTION_FROM_PB = {v: k for k, v in DIRECTION_TO_PB.items()}
STATUS_FROM_PB = {
    pb.DOCUMENT_STATUS_REGISTERED: "registered",
    pb.DOCUMENT_STATUS_DRAFT: "draft",
    pb.DOCUMENT_STATUS_ISSUED: "issued",
    pb.DOCUMENT_STATUS_CANCELLED: "cancelled",
    pb.DOCUMENT_STATUS_RECALLED: "recalled",
}
STATUS_TO_PB = {v: k for k, v in STATUS_FROM_PB.items()}
PRIORITY_FROM_PB = {
    pb.PRIORITY_NORMAL: "normal",
    pb.PRIORITY_URGENT: "urgent",
    pb.PRIORITY_VERY_URGENT: "very_urgent",
    pb.PRIORITY_FLASH: "flash",
}
PRIORITY_TO_PB = {v: k for k, v in PRIORITY_FROM_PB.items()}
SECRECY_FROM_PB = {value: level.value for level, value in SECRECY_TO_PB.items()}
SECRECY_BY_NAME = {level.value: value for level, value in SECRECY_TO_PB.items()}
SORT_FROM_PB = {
    pb.DOCUMENT_SORT_UNSPECIFIED: Sort.REGISTERED_AT,
    pb.DOCUMENT_SORT_REGISTERED_AT: Sort.REGISTERED_AT,
    pb.DOCUMENT_SORT_ISSUED_DATE: Sort.ISSUED_DATE,
    pb.DOCUMENT_SORT_NUMBER: Sort.NUMBER,
}
RECEIVED_VIA_TO_PB = {"electronic": pb.RECEIVED_VIA_ELECTRONIC, "paper": pb.RECEIVED_VIA_PAPER}


def _values(
    values: Iterable[int],
    table: Mapping[Any, str],
    field: str,
    problems: dict[str, str],
) -> tuple[str, ...]:
    out = []
    for value in values:
        if value not in table:
            problems[field] = f"unknown value {value}"
        else:
            out.append(table[value])
    return tuple(dict.fromkeys(out))


def filter_from_pb(message: pb.DocumentFilter, *, direction: str | None) -> Filter:
    """The filter of a request; `direction` fixes it for the lists."""
    problems: dict[str, str] = {}
    if direction is None and message.direction != pb.DIRECTION_UNSPECIFIED:
        if message.direction not in DIRECTION_FROM_PB:
            problems["filter.direction"] = f"unknown value {message.direction}"
        else:
            direction = DIRECTION_FROM_PB[message.direction]
    priorities = _values(message.priorities, PRIORITY_FROM_PB, "filter.priorities", problems)
    statuses = _values(message.statuses, STATUS_FROM_PB, "filter.statuses", problems)
    secrecy = _values(message.secrecy, SECRECY_FROM_PB, "filter.secrecy", problems)
    days = {}
    for name in ("registered_from", "registered_to"):
        try:
            days[name] = parse_day(getattr(message, name), field_name=f"filter.{name}")
        except InvalidArgumentError as exc:
            problems.update({v.field: v.description for v in exc.violations})
    if problems:
        raise invalid_fields(problems, reason="INVALID_FILTER")
    return Filter(
        direction=direction,
        document_types=tuple(dict.fromkeys(message.document_types)),
        registered_from=days["registered_from"],
        registered_to=days["registered_to"],
        priorities=priorities,
        statuses=statuses,
        unit=message.unit or None,
        duplicates_only=message.duplicates_only,
        secrecy=secrecy,
    )


def viewer_of(caller: Caller) -> Viewer:
    return Viewer.of(
        Reader(
            roles=caller.roles,
            clearance=caller.clearance,
            is_service=caller.is_service,
            person_id="" if caller.is_service else caller.subject,
            units=caller.units,
        )
    )


def summary_to_pb(summary: Summary) -> pb.DocumentSummary:
    message = pb.DocumentSummary(
        id=summary.id,
        direction=DIRECTION_TO_PB[summary.direction],
        status=STATUS_TO_PB.get(summary.status, pb.DOCUMENT_STATUS_UNSPECIFIED),
        document_type=summary.document_type,
        subject=summary.subject,
        code_number=summary.code_number or "",
        code_notation=summary.code_notation or "",
        issued_date=summary.issued_date.isoformat() if summary.issued_date else "",
        issuer_code=summary.issuer_code or "",
        issuer_name=summary.issuer_name or "",
        register_id=summary.register_id or "",
        number=summary.number or 0,
        year=summary.year or 0,
        priority=PRIORITY_TO_PB.get(summary.priority, pb.PRIORITY_UNSPECIFIED),
        secrecy=SECRECY_BY_NAME.get(summary.secrecy, pb.SECRECY_UNSPECIFIED),
        unit=summary.unit or "",
        received_via=RECEIVED_VIA_TO_PB.get(
            summary.received_via or "", pb.RECEIVED_VIA_UNSPECIFIED
        ),
        duplicate_count=summary.duplicate_count,
    )
    if summary.registered_at is not None:
        message.registered_at.CopyFrom(to_timestamp(summary.registered_at))
    return message


def query_from_pb(
    request: pb.SearchDocumentsRequest
    | pb.ListIncomingDocumentsRequest
    | pb.ListOutgoingDocumentsRequest,
    *,
    direction: str | None,
    q: str | None,
) -> DocumentQuery:
    sort: Mapping[Any, Sort] = SORT_FROM_PB
    if request.sort not in sort:
        raise invalid_fields({"sort": f"unknown value {request.sort}"}, reason="INVALID_FILTER")
    filter_ = filter_from_pb(request.filter, direction=direction)
    try:
        filter_.validated()
    except InvalidArgumentError as exc:  # named as the request names them
        raise invalid_fields(
            {f"filter.{v.field}": v.description for v in exc.violations}, reason=exc.reason
        ) from None
    return make_query(
        filter=filter_,
        q=q,
        sort=sort[request.sort],
        ascending=request.ascending,
        requested_page_size=request.page_size,
        page_token=request.page_token,
    )


class SearchMixin:
    """Lists and search for DocumentRegistryServicer (which sets `_uow_factory` and `_tz`)."""

    _uow_factory: Callable[[], UnitOfWork]
    _tz: ZoneInfo

    async def _find(self, query: DocumentQuery) -> Page:
        viewer = viewer_of(current_caller())
        async with self._uow_factory() as uow:
            return await find_documents(uow.session, query, viewer=viewer, tz=self._tz)

    async def SearchDocuments(
        self, request: pb.SearchDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchDocumentsResponse:
        page = await self._find(query_from_pb(request, direction=None, q=request.q))
        return pb.SearchDocumentsResponse(
            documents=[summary_to_pb(s) for s in page.documents],
            next_page_token=page.next_page_token,
            total=page.total,
            total_exact=page.total_exact,
        )

    async def ListIncomingDocuments(
        self, request: pb.ListIncomingDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListIncomingDocumentsResponse:
        page = await self._find(query_from_pb(request, direction="incoming", q=None))
        return pb.ListIncomingDocumentsResponse(
            documents=[summary_to_pb(s) for s in page.documents],
            next_page_token=page.next_page_token,
            total=page.total,
            total_exact=page.total_exact,
        )

    async def ListOutgoingDocuments(
        self, request: pb.ListOutgoingDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOutgoingDocumentsResponse:
        page = await self._find(query_from_pb(request, direction="outgoing", q=None))
        return pb.ListOutgoingDocumentsResponse(
            documents=[summary_to_pb(s) for s in page.documents],
            next_page_token=page.next_page_token,
            total=page.total,
            total_exact=page.total_exact,
        )
