"""Stubs of the services behind the gateway, on shared channels."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

import grpc
from grpc_health.v1 import health_pb2

from vanban.contracts.archive.v1 import archive_pb2_grpc, records_pb2_grpc
from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.contracts.documents.v1 import documents_pb2_grpc
from vanban.contracts.exchange.v1 import exchange_pb2_grpc
from vanban.contracts.notify.v1 import notify_pb2_grpc
from vanban.contracts.signing.v1 import signing_pb2_grpc
from vanban.contracts.workflow.v1 import workflow_pb2_grpc
from vanban.platform.caller import CALLER_METADATA_KEY
from vanban.platform.grpc.health import health_check
from vanban.platform.service import ServiceHost

if TYPE_CHECKING:
    # A stub made on an asyncio channel: its calls are awaited. mypy-protobuf's stubs name that
    # variant `*AsyncStub`, a class for the type checker only (at run time it is the stub itself).
    DirectoryStub: TypeAlias = directory_pb2_grpc.DirectoryServiceAsyncStub
    DocumentsStub: TypeAlias = documents_pb2_grpc.DocumentRegistryServiceAsyncStub
    ArchiveStub: TypeAlias = archive_pb2_grpc.ArchiveServiceAsyncStub
    RecordsStub: TypeAlias = records_pb2_grpc.RecordsServiceAsyncStub
    NotifyStub: TypeAlias = notify_pb2_grpc.NotifyServiceAsyncStub
    WebhooksStub: TypeAlias = notify_pb2_grpc.WebhookServiceAsyncStub
    WorkflowStub: TypeAlias = workflow_pb2_grpc.WorkflowServiceAsyncStub
    SigningStub: TypeAlias = signing_pb2_grpc.SigningServiceAsyncStub
    ExchangeStub: TypeAlias = exchange_pb2_grpc.ExchangeServiceAsyncStub
else:
    DirectoryStub = directory_pb2_grpc.DirectoryServiceStub
    DocumentsStub = documents_pb2_grpc.DocumentRegistryServiceStub
    ArchiveStub = archive_pb2_grpc.ArchiveServiceStub
    RecordsStub = records_pb2_grpc.RecordsServiceStub
    NotifyStub = notify_pb2_grpc.NotifyServiceStub
    WebhooksStub = notify_pb2_grpc.WebhookServiceStub
    WorkflowStub = workflow_pb2_grpc.WorkflowServiceStub
    SigningStub = signing_pb2_grpc.SigningServiceStub
    ExchangeStub = exchange_pb2_grpc.ExchangeServiceStub

HealthCheck: TypeAlias = grpc.aio.UnaryUnaryMultiCallable[
    health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse
]

READINESS_PEERS = (
    "directory",
    "documents",
    "archive",
    "notify",
    "workflow",
    "signing",
    "exchange",
)
# `/readyz` is open to anyone: however often it is asked, the peers are asked at most this often.
READINESS_REUSE_SECONDS = 1.0


@dataclass
class Upstreams:
    directory: DirectoryStub
    documents: DocumentsStub
    archive: ArchiveStub
    # The archive's records (dossier lists, dossiers, dispositions), served beside its objects.
    records: RecordsStub
    notify: NotifyStub
    # Notify's webhooks, on notify's channel.
    webhooks: WebhooksStub
    workflow: WorkflowStub
    signing: SigningStub
    exchange: ExchangeStub
    health: dict[str, HealthCheck]
    service_metadata: Callable[[], tuple[tuple[str, str], ...]]
    timeout: float
    _readiness: tuple[float, asyncio.Task[dict[str, str]]] | None = field(default=None, repr=False)

    @classmethod
    def from_host(cls, host: ServiceHost, *, timeout: float) -> Upstreams:
        # Every call states its caller explicitly: the person's token, or the gateway's own
        # identity for sign-in only. A call that forgets fails closed.
        def channel(peer: str) -> grpc.aio.Channel:
            return host.channel(peer, background=False)

        return cls(
            directory=directory_pb2_grpc.DirectoryServiceStub(channel("directory")),
            documents=documents_pb2_grpc.DocumentRegistryServiceStub(channel("documents")),
            archive=archive_pb2_grpc.ArchiveServiceStub(channel("archive")),
            records=records_pb2_grpc.RecordsServiceStub(channel("archive")),
            notify=notify_pb2_grpc.NotifyServiceStub(channel("notify")),
            webhooks=notify_pb2_grpc.WebhookServiceStub(channel("notify")),
            workflow=workflow_pb2_grpc.WorkflowServiceStub(channel("workflow")),
            signing=signing_pb2_grpc.SigningServiceStub(channel("signing")),
            exchange=exchange_pb2_grpc.ExchangeServiceStub(channel("exchange")),
            health={name: health_check(channel(name)) for name in READINESS_PEERS},
            service_metadata=lambda: ((CALLER_METADATA_KEY, host.identity.token()),),
            timeout=timeout,
        )

    async def readiness(self) -> dict[str, str]:
        """The peers' health, asked once for everyone who asks within a second."""
        now = time.monotonic()
        if self._readiness is None or self._readiness[0] <= now:
            self._readiness = (now + READINESS_REUSE_SECONDS, asyncio.create_task(self._ask()))
        return dict(await asyncio.shield(self._readiness[1]))

    async def _ask(self) -> dict[str, str]:
        async def check(name: str, health: HealthCheck) -> tuple[str, str]:
            try:
                answer = await health(health_pb2.HealthCheckRequest(), timeout=2)
            except grpc.aio.AioRpcError as exc:
                return name, exc.code().name
            return name, health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)

        results = await asyncio.gather(*(check(n, s) for n, s in self.health.items()))
        return dict(results)
