"""Work dossiers (hồ sơ công việc, ADR 0010 §8): a handler groups the documents and tasks of one
matter. Workflow decides what an owner may add (only what they may open)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response, status

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.deps import Workflow, allowed
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.work_dossiers import (
    ItemKind,
    WorkDossierIn,
    WorkDossierItemIn,
    WorkDossierItemOut,
    WorkDossierOut,
    WorkDossiersOut,
)
from vanban.platform.convert import from_timestamp, optional_datetime

router = APIRouter(prefix="/v1/work-dossiers", tags=["work dossiers"])

Handler = Annotated[Principal, allowed("tasks:handle")]
_OWN = ("WORK_DOSSIER_NOT_FOUND", "WORK_DOSSIER_CLOSED")


def dossier_out(d: pb.WorkDossier) -> WorkDossierOut:
    return WorkDossierOut(
        id=d.id,
        title=d.title,
        description=d.description,
        owner=d.owner,
        created_at=from_timestamp(d.created_at),
        closed_at=optional_datetime(d, "closed_at"),
        items=[
            WorkDossierItemOut(
                kind=i.kind,
                ref_id=i.ref_id,
                note=i.note,
                added_by=i.added_by,
                added_at=from_timestamp(i.added_at),
            )
            for i in d.items
        ],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkDossierOut,
    operation_id="openWorkDossier",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, "INVALID_WORK_DOSSIER", "TOO_MANY_DOSSIERS"),
)
async def open_dossier(
    response: Response,
    principal: Handler,
    workflow: Workflow,
    body: Annotated[
        WorkDossierIn,
        Body(
            openapi_examples={
                "a matter": {
                    "value": {
                        "title": "Hồ sơ xây dựng kế hoạch cải cách hành chính năm 2027",
                        "description": "Văn bản đến, dự thảo và ý kiến các phòng.",
                    }
                }
            }
        ),
    ],
) -> WorkDossierOut:
    """Opens a work dossier of one's own."""
    answer = await workflow.stub.OpenWorkDossier(
        pb.OpenWorkDossierRequest(title=body.title, description=body.description),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    response.headers["Location"] = f"/v1/work-dossiers/{answer.dossier.id}"
    return dossier_out(answer.dossier)


@router.get(
    "",
    response_model=WorkDossiersOut,
    operation_id="listWorkDossiers",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_PAGE", "INVALID_PAGE_TOKEN"),
)
async def list_dossiers(
    principal: Handler,
    workflow: Workflow,
    page_size: Annotated[int, Query(ge=0, le=100)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> WorkDossiersOut:
    """One's own work dossiers, newest first."""
    answer = await workflow.stub.ListWorkDossiers(
        pb.ListWorkDossiersRequest(page_size=page_size, page_token=page_token),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return WorkDossiersOut(
        dossiers=[dossier_out(d) for d in answer.dossiers],
        next_page_token=answer.next_page_token or None,
    )


@router.get(
    "/{dossier_id}",
    response_model=WorkDossierOut,
    operation_id="getWorkDossier",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "WORK_DOSSIER_NOT_FOUND"),
)
async def get_dossier(principal: Handler, dossier_id: UUID, workflow: Workflow) -> WorkDossierOut:
    """The dossier with its items, for its owner and the agency's leaders."""
    answer = await workflow.stub.GetWorkDossier(
        pb.GetWorkDossierRequest(id=str(dossier_id)),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return dossier_out(answer.dossier)


@router.post(
    "/{dossier_id}/items",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkDossierOut,
    operation_id="addWorkDossierItem",
    responses=answers(
        *SCOPED,
        *BODY,
        *UPSTREAM,
        *_OWN,
        "ITEM_NOT_FOUND",
        "ITEM_ALREADY_IN_DOSSIER",
        "TOO_MANY_ITEMS",
        "INVALID_WORK_DOSSIER",
    ),
)
async def add_item(
    principal: Handler,
    dossier_id: UUID,
    body: Annotated[
        WorkDossierItemIn,
        Body(
            openapi_examples={
                "an incoming document": {
                    "value": {
                        "kind": "incoming",
                        "ref_id": "3f2b8c1d-5e6a-4b7c-8d9e-0f1a2b3c4d5e",
                        "note": "Văn bản giao nhiệm vụ",
                    }
                }
            }
        ),
    ],
    workflow: Workflow,
) -> WorkDossierOut:
    """Adds a document or a task you may open, by reference (nothing is copied)."""
    answer = await workflow.stub.AddWorkDossierItem(
        pb.AddWorkDossierItemRequest(
            dossier_id=str(dossier_id), kind=body.kind, ref_id=str(body.ref_id), note=body.note
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return dossier_out(answer.dossier)


@router.delete(
    "/{dossier_id}/items/{kind}/{ref_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="removeWorkDossierItem",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, *_OWN, "ITEM_NOT_FOUND"),
)
async def remove_item(
    principal: Handler, dossier_id: UUID, kind: ItemKind, ref_id: UUID, workflow: Workflow
) -> Response:
    await workflow.stub.RemoveWorkDossierItem(
        pb.RemoveWorkDossierItemRequest(dossier_id=str(dossier_id), kind=kind, ref_id=str(ref_id)),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{dossier_id}/close",
    response_model=WorkDossierOut,
    operation_id="closeWorkDossier",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, *_OWN),
)
async def close_dossier(principal: Handler, dossier_id: UUID, workflow: Workflow) -> WorkDossierOut:
    """Closes the dossier: the matter is done; it keeps its items and changes no more."""
    answer = await workflow.stub.CloseWorkDossier(
        pb.CloseWorkDossierRequest(id=str(dossier_id)),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return dossier_out(answer.dossier)
