"""The one wiring place of the workflow service."""

from __future__ import annotations

import asyncio
from pathlib import Path
from zoneinfo import ZoneInfo

from vanban.contracts.workflow.v1 import workflow_pb2, workflow_pb2_grpc
from vanban.platform.service import ServiceHost
from vanban.workflow.adapters.db.tables import platform_tables
from vanban.workflow.adapters.due import due_loop
from vanban.workflow.adapters.events.issued import issued_consumer
from vanban.workflow.adapters.grpc.servicer import WorkflowServicer
from vanban.workflow.adapters.peers import GrpcPeers
from vanban.workflow.settings import WorkflowSettings

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = workflow_pb2.DESCRIPTOR.services_by_name["WorkflowService"].full_name


def build(settings: WorkflowSettings) -> ServiceHost:
    host = ServiceHost(settings, service="workflow", tables=platform_tables, migrations=MIGRATIONS)
    peers = GrpcPeers(
        documents=host.channel("documents"),
        directory=host.channel("directory"),
        service_token=lambda: host.identity.token(),
        cache_seconds=settings.peer_cache_seconds,
    )
    host.add_consumer(
        lambda js: issued_consumer(
            js=js, uow_factory=host.uow, max_deliver=settings.consumer_max_deliver
        )
    )
    host.grpc.add_service(
        workflow_pb2_grpc.add_WorkflowServiceServicer_to_server,
        WorkflowServicer(
            uow_factory=host.uow,
            peers=peers,
            timezone=ZoneInfo(settings.timezone),
            default_days=settings.default_working_days,
        ),
        SERVICE_NAME,
    )
    host.add_background(
        "due-tasks",
        due_loop(
            host.uow, timezone=ZoneInfo(settings.timezone), poll_seconds=settings.due_poll_seconds
        ),
    )
    return host


async def main(settings: WorkflowSettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)
