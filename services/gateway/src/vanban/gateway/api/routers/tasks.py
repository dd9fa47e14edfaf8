"""Handling assigned documents: the tasks an assignment grows (ADR 0010). Workflow decides who
holds a task; the gateway only carries the caller to it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response, status

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.tasks import (
    STATES_BY_NAME,
    forward_request,
    task_out,
    task_view_out,
)
from vanban.gateway.api.deps import Workflow, allowed
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.tasks import (
    CompleteIn,
    ForwardIn,
    ProgressIn,
    RecallIn,
    ReturnIn,
    TaskOut,
    TasksOut,
    TaskStateName,
    TaskViewOut,
)
from vanban.platform.errors import invalid_fields

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

# Every use of a task: the caller must hold it (or lead it), act under a delegation, and find it.
_HANDLING = ("TASK_NOT_FOUND", "TASK_NOT_HELD", "TASK_CLOSED", "DELEGATION_REQUIRED")
Handler = Annotated[Principal, allowed("tasks:handle")]

_FORWARD = {
    "specialist": {
        "summary": "The unit head hands the task to a specialist of the unit",
        "value": {
            "to": [{"person_id": "7d9f2c1e-4a3b-4c5d-9e8f-0a1b2c3d4e5f"}],
            "role": "lead",
            "note": "Đồng chí Minh chủ trì tham mưu, báo cáo trước ngày 10/12.",
            "deadline": "2026-12-10",
        },
    },
    "units": {
        "summary": "To a unit below, and one specialist to be informed",
        "value": {
            "to": [
                {"unit": "PKT1", "role": "coordinating"},
                {"person_id": "7d9f2c1e-4a3b-4c5d-9e8f-0a1b2c3d4e5f", "role": "informed"},
            ],
            "note": "Phối hợp cung cấp số liệu.",
        },
    },
}


_PROGRESS = {
    "note": {
        "summary": "Where the handling stands",
        "value": {"note": "Đã lấy ý kiến các phòng, đang dự thảo."},
    }
}
_COMPLETE = {
    "reply": {
        "summary": "Done, with the reply drafted",
        "value": {
            "result": "Đã dự thảo công văn trả lời, trình lãnh đạo ký.",
            "reply_document_id": "3f2b8c1d-5e6a-4b7c-8d9e-0f1a2b3c4d5e",
        },
    },
    "acknowledge": {"summary": "An informed task, read", "value": {}},
}
_RETURN = {
    "misrouted": {
        "summary": "Not this unit's",
        "value": {"reason": "Không thuộc lĩnh vực của phòng."},
    }
}
_RECALL = {"plain": {"summary": "Take it back", "value": {}}}


def _id(value: UUID | None) -> str:
    return str(value) if value else ""


@router.get(
    "",
    response_model=TasksOut,
    operation_id="listTasks",
    responses=answers(
        *SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_FILTER", "INVALID_PAGE", "INVALID_PAGE_TOKEN"
    ),
)
async def list_tasks(
    principal: Handler,
    workflow: Workflow,
    mine: Annotated[
        bool,
        Query(description="Your tasks and your units' (as head or deputy); the only list yet"),
    ] = True,
    state: Annotated[list[TaskStateName] | None, Query(max_length=5)] = None,
    page_size: Annotated[int, Query(ge=0, le=100)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> TasksOut:
    """The caller's tasks, newest first: their own, and their units' as head or deputy."""
    if not mine:
        raise invalid_fields(
            {"query.mine": "only your own tasks can be listed yet"},
            reason="INVALID_FILTER",
        )
    answer = await workflow.stub.ListTasks(
        pb.ListTasksRequest(
            states=[STATES_BY_NAME[s] for s in state or ()],
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return TasksOut(
        tasks=[task_out(t) for t in answer.tasks], next_page_token=answer.next_page_token or None
    )


@router.get(
    "/{task_id}",
    response_model=TaskViewOut,
    operation_id="getTask",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "TASK_NOT_FOUND"),
)
async def get_task(principal: Handler, task_id: UUID, workflow: Workflow) -> TaskViewOut:
    """The task with its assignment's one opinion and the whole tree, for whoever holds a task
    of the assignment and for the agency's leaders."""
    answer = await workflow.stub.GetTask(
        pb.GetTaskRequest(id=str(task_id)), metadata=principal.metadata, timeout=workflow.timeout
    )
    return task_view_out(answer)


@router.post(
    "/{task_id}/forward",
    status_code=status.HTTP_201_CREATED,
    response_model=TasksOut,
    operation_id="forwardTask",
    responses=answers(
        *SCOPED,
        *BODY,
        *UPSTREAM,
        *_HANDLING,
        "INVALID_FORWARD",
        "FORWARD_NOT_ALLOWED",
        "ALREADY_ASSIGNED",
    ),
)
async def forward_task(
    response: Response,
    principal: Handler,
    task_id: UUID,
    body: Annotated[ForwardIn, Body(openapi_examples=_FORWARD)],
    workflow: Workflow,
) -> TasksOut:
    """A unit head forwards the unit's task down the unit: never outside it, never past the
    task's deadline, never twice to anyone within the assignment."""
    answer = await workflow.stub.ForwardTask(
        forward_request(str(task_id), body), metadata=principal.metadata, timeout=workflow.timeout
    )
    response.headers["Location"] = f"/v1/tasks/{task_id}"
    return TasksOut(tasks=[task_out(t) for t in answer.created])


@router.post(
    "/{task_id}/progress",
    response_model=TaskOut,
    operation_id="reportTaskProgress",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, *_HANDLING, "INVALID_PROGRESS"),
)
async def report_progress(
    principal: Handler,
    task_id: UUID,
    body: Annotated[ProgressIn, Body(openapi_examples=_PROGRESS)],
    workflow: Workflow,
) -> TaskOut:
    answer = await workflow.stub.ReportTaskProgress(
        pb.ReportTaskProgressRequest(
            id=str(task_id), note=body.note, on_behalf_of=_id(body.on_behalf_of)
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return task_out(answer.task)


@router.post(
    "/{task_id}/complete",
    response_model=TaskOut,
    operation_id="completeTask",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, *_HANDLING, "INVALID_COMPLETION", "OPEN_SUBTASKS"),
)
async def complete_task(
    principal: Handler,
    task_id: UUID,
    body: Annotated[CompleteIn, Body(openapi_examples=_COMPLETE)],
    workflow: Workflow,
) -> TaskOut:
    answer = await workflow.stub.CompleteTask(
        pb.CompleteTaskRequest(
            id=str(task_id),
            result=body.result,
            reply_document_id=_id(body.reply_document_id),
            on_behalf_of=_id(body.on_behalf_of),
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return task_out(answer.task)


@router.post(
    "/{task_id}/return",
    response_model=TaskOut,
    operation_id="returnTask",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, *_HANDLING, "INVALID_RETURN"),
)
async def return_task(
    principal: Handler,
    task_id: UUID,
    body: Annotated[ReturnIn, Body(openapi_examples=_RETURN)],
    workflow: Workflow,
) -> TaskOut:
    answer = await workflow.stub.ReturnTask(
        pb.ReturnTaskRequest(
            id=str(task_id), reason=body.reason, on_behalf_of=_id(body.on_behalf_of)
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return task_out(answer.task)


@router.post(
    "/{task_id}/recall",
    response_model=TasksOut,
    operation_id="recallTask",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, *_HANDLING, "RECALL_NOT_ALLOWED"),
)
async def recall_task(
    principal: Handler,
    task_id: UUID,
    body: Annotated[RecallIn, Body(openapi_examples=_RECALL)],
    workflow: Workflow,
) -> TasksOut:
    """Whoever forwarded the task, or a leader, takes it back with its open subtree."""
    answer = await workflow.stub.RecallTask(
        pb.RecallTaskRequest(id=str(task_id), on_behalf_of=_id(body.on_behalf_of)),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return TasksOut(tasks=[task_out(t) for t in answer.recalled])
