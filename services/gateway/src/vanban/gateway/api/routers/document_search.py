"""Search (`GET /v1/search`) and the lists of incoming and outgoing documents: one set of
filters, sorts and cursor pages, answered by documents' one query builder, which keeps to what
the caller may see, totals included. Handlers only translate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.document_lists import document_filter, page_out, sort_of
from vanban.gateway.api.deps import Documents, allowed
from vanban.gateway.api.openapi import PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.document_lists import (
    Direction,
    DocumentPage,
    Order,
    Priority,
    SecrecyLevel,
    SortKey,
    Status,
)

router = APIRouter(tags=["search"])

PAGE_SIZE_MAX = 100  # as documents' lists
FILTER_VALUES_MAX = 50
_ANSWERS = answers(
    *SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_PAGE_TOKEN", "INVALID_FILTER", "INVALID_PAGE"
)


@dataclass(frozen=True)
class ListParameters:
    document_types: list[str]
    registered_from: date | None
    registered_to: date | None
    priorities: list[Priority]
    statuses: list[Status]
    unit: str | None
    secrecy: list[SecrecyLevel]
    sort: SortKey
    ascending: bool
    page_size: int
    page_token: str


def list_parameters(
    document_type: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=100)]],
        Query(max_length=FILTER_VALUES_MAX, description="A type name; repeat for several"),
    ] = [],  # noqa: B006 (FastAPI copies defaults)
    from_: Annotated[
        date | None,
        Query(alias="from", description="First registration day, YYYY-MM-DD, Vietnam time"),
    ] = None,
    to: Annotated[
        date | None, Query(description="Last registration day (included), YYYY-MM-DD")
    ] = None,
    priority: Annotated[list[Priority], Query(max_length=4)] = [],  # noqa: B006
    status: Annotated[list[Status], Query(max_length=5)] = [],  # noqa: B006
    unit: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="Lead unit (incoming) or drafting unit"),
    ] = None,
    secrecy: Annotated[list[SecrecyLevel], Query(max_length=4)] = [],  # noqa: B006
    sort: Annotated[SortKey, Query()] = "registered_at",
    order: Annotated[Order, Query()] = "desc",
    page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 20,
    page_token: Annotated[str, Query(max_length=512)] = "",
) -> ListParameters:
    if from_ is not None and to is not None and from_ > to:
        raise HttpProblem(422, "VALIDATION_FAILED", "must not be before `from`", field="to")
    return ListParameters(
        document_types=list(dict.fromkeys(document_type)),
        registered_from=from_,
        registered_to=to,
        priorities=priority,
        statuses=status,
        unit=unit,
        secrecy=secrecy,
        sort=sort,
        ascending=order == "asc",
        page_size=page_size,
        page_token=page_token,
    )


Parameters = Annotated[ListParameters, Depends(list_parameters)]


def _filter(
    p: ListParameters, *, direction: str | None = None, duplicates: bool = False
) -> docs.DocumentFilter:
    return document_filter(
        direction=direction,
        document_types=p.document_types,
        registered_from=p.registered_from,
        registered_to=p.registered_to,
        priorities=p.priorities,
        statuses=p.statuses,
        unit=p.unit,
        duplicates_only=duplicates,
        secrecy=p.secrecy,
    )


@router.get(
    "/v1/search",
    response_model=DocumentPage,
    operation_id="searchDocuments",
    responses=answers(
        *SCOPED,
        *PARAMETERS,
        *UPSTREAM,
        "INVALID_PAGE_TOKEN",
        "INVALID_FILTER",
        "INVALID_PAGE",
        "INVALID_QUERY",
    ),
)
async def search_documents(
    principal: Annotated[Principal, allowed("documents:search")],
    documents: Documents,
    parameters: Parameters,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=500,
            description="Words with or without diacritics, số/ký hiệu in any order "
            '("quyet dinh", "QD-UBND 5")',
        ),
    ],
    direction: Annotated[Direction | None, Query()] = None,
    duplicates: Annotated[
        bool, Query(description="Only incoming documents with a duplicate warning")
    ] = False,
) -> DocumentPage:
    """Documents you may see whose abstract, text, số/ký hiệu, issuer or signer match, newest
    first unless sorted otherwise; a page at a time."""
    if duplicates and direction == "outgoing":
        raise HttpProblem(
            422, "VALIDATION_FAILED", "only incoming documents have duplicates", field="duplicates"
        )
    answer = await documents.stub.SearchDocuments(
        docs.SearchDocumentsRequest(
            q=q,
            filter=_filter(parameters, direction=direction, duplicates=duplicates),
            sort=sort_of(parameters.sort),
            ascending=parameters.ascending,
            page_size=parameters.page_size,
            page_token=parameters.page_token,
        ),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    return page_out(answer)


@router.get(
    "/v1/incoming-documents",
    response_model=DocumentPage,
    operation_id="listIncomingDocuments",
    tags=["incoming documents"],
    responses=_ANSWERS,
)
async def list_incoming_documents(
    principal: Annotated[Principal, allowed("incoming:read")],
    documents: Documents,
    parameters: Parameters,
    duplicates: Annotated[
        bool, Query(description="Only documents with a duplicate warning")
    ] = False,
) -> DocumentPage:
    """Incoming documents (văn bản đến) you may see, newest arrival first unless sorted
    otherwise; a page at a time."""
    answer = await documents.stub.ListIncomingDocuments(
        docs.ListIncomingDocumentsRequest(
            filter=_filter(parameters, duplicates=duplicates),
            sort=sort_of(parameters.sort),
            ascending=parameters.ascending,
            page_size=parameters.page_size,
            page_token=parameters.page_token,
        ),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    return page_out(answer)


@router.get(
    "/v1/outgoing-documents",
    response_model=DocumentPage,
    operation_id="listOutgoingDocuments",
    tags=["outgoing documents"],
    responses=_ANSWERS,
)
async def list_outgoing_documents(
    principal: Annotated[Principal, allowed("outgoing:read")],
    documents: Documents,
    parameters: Parameters,
) -> DocumentPage:
    """Outgoing documents (văn bản đi) you may see, drafts included (first when newest first;
    an API key sees issued ones only), then by issue; a page at a time."""
    answer = await documents.stub.ListOutgoingDocuments(
        docs.ListOutgoingDocumentsRequest(
            filter=_filter(parameters),
            sort=sort_of(parameters.sort),
            ascending=parameters.ascending,
            page_size=parameters.page_size,
            page_token=parameters.page_token,
        ),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    return page_out(answer)
