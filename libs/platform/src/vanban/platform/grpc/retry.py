"""Which calls a channel sends again when the peer answers UNAVAILABLE: only idempotent ones.

UNAVAILABLE also comes when the connection drops after the peer acted on a call, so only a
call that is safe to send twice is retried: reads, and writes whose repetition changes nothing.
A method not listed here is never retried, and its caller sees UNAVAILABLE.

The list names methods through the generated descriptors, so a renamed or removed RPC fails
at import instead of silently losing its retries. (The standard `idempotency_level` method
option would say the same in the contract, but `buf breaking` counts a change of that option
as breaking, METHOD_SAME_IDEMPOTENCY_LEVEL, so it is not set on the published v1 services.)
"""

from __future__ import annotations

import json
from types import ModuleType

from google.protobuf.descriptor import MethodDescriptor
from grpc_health.v1 import health_pb2

from vanban.contracts.archive.v1 import archive_pb2
from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.notify.v1 import notify_pb2
from vanban.contracts.workflow.v1 import workflow_pb2


def _methods(module: ModuleType, service: str, *names: str) -> tuple[MethodDescriptor, ...]:
    methods = module.DESCRIPTOR.services_by_name[service].methods_by_name
    return tuple(methods[name] for name in names)


IDEMPOTENT_METHODS: tuple[MethodDescriptor, ...] = (
    *_methods(health_pb2, "Health", "Check"),
    # ReleaseUpload leaves an upload that already ended as it is, so a second one changes
    # nothing. PutObject is not idempotent: every call opens its own upload.
    *_methods(archive_pb2, "ArchiveService", "GetObject", "StatObject", "ReleaseUpload"),
    *_methods(
        directory_pb2,
        "DirectoryService",
        "GetAgency",
        "GetPerson",
        "ListPeople",
        "GetUnit",
        "ListUnits",
        "FindPerson",
        "ListDelegations",
    ),
    *_methods(documents_pb2, "DocumentRegistryService", "GetIncomingDocument"),
    *_methods(notify_pb2, "NotifyService", "ListNotifications"),
    *_methods(workflow_pb2, "WorkflowService", "GetAssignment"),
)

# Three attempts within about a third of a second: enough to ride out a peer's restart or a
# dropped connection, short enough to stay well inside the callers' deadlines, which still
# bound every attempt together.
RETRY_POLICY: dict[str, object] = {
    "maxAttempts": 3,
    "initialBackoff": "0.1s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


# round_robin keeps a connection to each replica a target names and spreads the calls over those
# that are ready; the default, pick_first, would send every call to one (see `balanced`).
ROUND_ROBIN: list[dict[str, object]] = [{"round_robin": {}}]


def service_config(
    methods: tuple[MethodDescriptor, ...] = IDEMPOTENT_METHODS, *, round_robin: bool = False
) -> str:
    """The `grpc.service_config` channel option: the retry policy for `methods` alone, and with
    `round_robin` the calls spread over the replicas the target names."""
    names = [{"service": m.containing_service.full_name, "method": m.name} for m in methods]
    config: dict[str, object] = {"methodConfig": [{"name": names, "retryPolicy": RETRY_POLICY}]}
    if round_robin:
        config["loadBalancingConfig"] = ROUND_ROBIN
    return json.dumps(config)
