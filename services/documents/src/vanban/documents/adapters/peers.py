"""What documents asks other services: the directory's agency profile and units, for the ký hiệu
of an issued document. Asked with the caller's own token (any person may read them)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc

from vanban.contracts.directory.v1 import directory_pb2, directory_pb2_grpc
from vanban.contracts.workflow.v1 import workflow_pb2, workflow_pb2_grpc
from vanban.documents.domain.service import Issuer
from vanban.platform.caller import CALLER_METADATA_KEY
from vanban.platform.errors import ErrorCode, FailedPreconditionError, UnavailableError
from vanban.platform.grpc.status import remote_error

if TYPE_CHECKING:
    # The asyncio variant of the stub, a class for the type checker only (see the gateway's
    # upstreams.py).
    DirectoryStub: TypeAlias = directory_pb2_grpc.DirectoryServiceAsyncStub
    WorkflowStub: TypeAlias = workflow_pb2_grpc.WorkflowServiceAsyncStub
else:
    DirectoryStub = directory_pb2_grpc.DirectoryServiceStub
    WorkflowStub = workflow_pb2_grpc.WorkflowServiceStub


class GrpcDirectory:
    def __init__(self, channel: Callable[[], grpc.aio.Channel], *, timeout: float = 5.0) -> None:
        # The channel is opened on first use: a documents service that never issues (tests,
        # tools) needs no directory address.
        self._channel = channel
        self._stub_: DirectoryStub | None = None
        self._timeout = timeout
        self._asking: dict[tuple[str, str], asyncio.Future[Any]] = {}

    @property
    def _stub(self) -> DirectoryStub:
        if self._stub_ is None:
            self._stub_ = DirectoryStub(self._channel())
        return self._stub_

    async def _shared(self, key: tuple[str, str], ask: Callable[[], Awaitable[Any]]) -> Any:
        """Concurrent asks for the same answer share one call: 500 clerks issuing at once ask the
        directory once, not 1000 times (which timed out). Nothing is kept once the call ends: an
        answer comes from a call that was in flight when it was asked for."""
        future = self._asking.get(key)
        if future is None:
            future = asyncio.ensure_future(ask())
            self._asking[key] = future
            future.add_done_callback(lambda _: self._done(key))
        return await asyncio.shield(future)

    def _done(self, key: tuple[str, str]) -> None:
        future = self._asking.pop(key, None)
        # Retrieved here too: when every asker was cancelled, nobody else would.
        if future is not None and not future.cancelled():
            future.exception()

    async def issuer(self, *, drafting_unit: str) -> Issuer:
        """The agency's identifier, name and abbreviation, and the drafting unit's abbreviation
        (None when the draft names no unit or the unit no longer exists)."""
        try:
            agency = (
                await self._shared(
                    ("agency", ""),
                    lambda: self._stub.GetAgency(
                        directory_pb2.GetAgencyRequest(), timeout=self._timeout
                    ),
                )
            ).agency
            unit_abbreviation = None
            if drafting_unit:
                try:
                    unit = (
                        await self._shared(
                            ("unit", drafting_unit),
                            lambda: self._stub.GetUnit(
                                directory_pb2.GetUnitRequest(code=drafting_unit),
                                timeout=self._timeout,
                            ),
                        )
                    ).unit
                    unit_abbreviation = unit.abbreviation or unit.code
                except grpc.aio.AioRpcError as exc:
                    if exc.code() not in (
                        grpc.StatusCode.NOT_FOUND,
                        grpc.StatusCode.INVALID_ARGUMENT,
                    ):
                        raise
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise UnavailableError(
                    "the directory is unavailable: the document cannot be numbered now",
                    reason="DIRECTORY_UNAVAILABLE",
                ) from exc
            raise
        return Issuer(
            organ_id=agency.code,
            name=agency.name,
            abbreviation=agency.abbreviation,
            unit_abbreviation=unit_abbreviation,
        )


class GrpcApprovals:
    """The workflow's answer before numbering: has the draft passed its approval chain, in the
    version about to be numbered? Asked as documents itself (the workflow answers services
    only)."""

    def __init__(
        self,
        channel: Callable[[], grpc.aio.Channel],
        *,
        service_token: Callable[[], str],
        timeout: float = 5.0,
    ) -> None:
        self._channel = channel
        self._token = service_token
        self._stub_: WorkflowStub | None = None
        self._timeout = timeout

    @property
    def requires_leader_signature(self) -> bool:
        return True

    async def check(self, document_id: str, version: int) -> None:
        if self._stub_ is None:
            self._stub_ = WorkflowStub(self._channel())
        try:
            await self._stub_.CheckIssuable(
                workflow_pb2.CheckIssuableRequest(document_id=document_id, version=version),
                metadata=((CALLER_METADATA_KEY, self._token()),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            remote = remote_error(exc)
            if remote.code is ErrorCode.FAILED_PRECONDITION and remote.reason:
                raise FailedPreconditionError(
                    remote.message, reason=remote.reason, metadata=remote.metadata
                ) from None
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise UnavailableError(
                    "the workflow is unavailable: the draft's approval cannot be checked now",
                    reason="WORKFLOW_UNAVAILABLE",
                ) from exc
            raise  # anything else is this platform's fault (a key, a contract): not an outage


class NoApprovals:
    """For a registry run without the workflow (`approval_required` off: tools, the registry's
    own tests): every draft may be numbered, signed or not."""

    @property
    def requires_leader_signature(self) -> bool:
        return False

    async def check(self, document_id: str, version: int) -> None:
        return None
