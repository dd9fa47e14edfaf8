"""What a gRPC client sees from a service built on GrpcServer: rich errors, auth, health."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from vanban.contracts.archive.v1 import archive_pb2, archive_pb2_grpc
from vanban.contracts.notify.v1 import notify_pb2, notify_pb2_grpc
from vanban.platform.caller import Caller, CallerTokenIssuer, CallerTokenVerifier, current_caller
from vanban.platform.errors import ErrorCode, FieldViolation, NotFoundError, invalid_fields
from vanban.platform.grpc.client import open_channel
from vanban.platform.grpc.health import health_check, health_watch
from vanban.platform.grpc.server import GrpcServer
from vanban.platform.grpc.status import ERROR_DOMAIN, remote_error
from vanban.platform.log import JsonFormatter
from vanban.platform.testing import DEMO_AGENCY, TokenMint, channel, metadata

NOTIFY = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name
INTERNAL_DETAIL = "connection to 10.0.0.5:5432 refused for user vanban password=hunter2"


class Notifications(notify_pb2_grpc.NotifyServiceServicer):
    """Behaves according to the page token it is sent."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.address = ""

    async def ListNotifications(
        self, request: notify_pb2.ListNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> notify_pb2.ListNotificationsResponse:
        caller = current_caller()
        self.calls.append(caller.subject)
        if request.page_token == "invalid":
            raise invalid_fields(
                {
                    "page_size": "must be between 1 and 100",
                    "page_token": "is not a token this service issued",
                }
            )
        if request.page_token == "missing":
            raise NotFoundError(
                "no notification page with this token",
                reason="PAGE_NOT_FOUND",
                metadata={"page_token": "missing"},
            )
        if request.page_token == "slow":
            await asyncio.sleep(0.5)
        if request.page_token == "boom":
            raise RuntimeError(INTERNAL_DETAIL)
        if request.page_token == "forward":
            # A call to a peer made while serving this one.
            async with channel(self.address) as peer:
                return await notify_pb2_grpc.NotifyServiceStub(peer).ListNotifications(
                    notify_pb2.ListNotificationsRequest(page_token="whoami")
                )
        return notify_pb2.ListNotificationsResponse(
            notifications=[
                notify_pb2.Notification(recipient_id=caller.subject, title=caller.clearance)
            ]
        )


async def start_server(keys_dir: Path) -> tuple[GrpcServer, Notifications, str]:
    server = GrpcServer(
        verifier=CallerTokenVerifier.from_keys_dir(keys_dir, agency_code=DEMO_AGENCY),
        host="127.0.0.1",
        port=0,
    )
    # Only ListNotifications is called here; the other methods answer UNIMPLEMENTED.
    servicer = Notifications()  # type: ignore[abstract]
    server.add_service(notify_pb2_grpc.add_NotifyServiceServicer_to_server, servicer, NOTIFY)
    port = await server.start()
    servicer.address = f"127.0.0.1:{port}"
    return server, servicer, servicer.address


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def mint(keys_dir: Path) -> TokenMint:
    return TokenMint(keys_dir)


@pytest.fixture(scope="module")
async def served(mint: TokenMint, keys_dir: Path) -> AsyncIterator[tuple[Notifications, str]]:
    server, servicer, address = await start_server(keys_dir)
    try:
        yield servicer, address
    finally:
        await server.stop(0)


@pytest.fixture
async def stub(
    served: tuple[Notifications, str],
) -> AsyncIterator[notify_pb2_grpc.NotifyServiceAsyncStub]:
    async with channel(served[1]) as ch:
        yield notify_pb2_grpc.NotifyServiceStub(ch)


class Lines(logging.Handler):
    """Keeps log lines formatted as they are emitted, inside the span that emitted them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter("test"))
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def server_log() -> Iterator[Lines]:
    lines = Lines()
    logger = logging.getLogger("vanban.platform.grpc.server")
    logger.addHandler(lines)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)


async def call(
    stub, token: str | None, page_token: str = ""
) -> notify_pb2.ListNotificationsResponse:
    return await stub.ListNotifications(
        notify_pb2.ListNotificationsRequest(page_token=page_token),
        metadata=metadata(token) if token is not None else None,
    )


async def test_a_valid_caller_reaches_the_handler_as_themselves(stub, mint: TokenMint) -> None:
    response = await call(stub, mint.person("person-7", clearance="secret"))

    assert [(n.recipient_id, n.title) for n in response.notifications] == [("person-7", "secret")]


async def test_invalid_input_is_invalid_argument_naming_every_field(stub, mint: TokenMint) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(stub, mint.person(), "invalid")

    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    error = remote_error(caught.value)
    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert (error.reason, error.domain) == ("INVALID_FIELDS", ERROR_DOMAIN)
    assert error.violations == (
        FieldViolation("page_size", "must be between 1 and 100"),
        FieldViolation("page_token", "is not a token this service issued"),
    )
    assert "page_size" in error.message and "page_token" in error.message


async def test_a_missing_thing_is_not_found_with_its_reason_and_metadata(
    stub, mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(stub, mint.person(), "missing")

    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    error = remote_error(caught.value)
    assert (error.reason, error.domain) == ("PAGE_NOT_FOUND", ERROR_DOMAIN)
    assert error.metadata == {"page_token": "missing"}
    assert error.message == "no notification page with this token"


async def test_an_unexpected_error_is_internal_with_a_trace_id_and_no_internals(
    stub, mint: TokenMint, server_log: Lines
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(stub, mint.person(), "boom")

    assert caught.value.code() is grpc.StatusCode.INTERNAL
    details = caught.value.details() or ""
    assert "hunter2" not in details and "10.0.0.5" not in details
    match = re.fullmatch(r"internal error \(trace ([0-9a-f]{32})\)", details)
    assert match is not None, details
    trace_id = match.group(1)
    assert trace_id != "0" * 32
    # The operator finds the failure in the logs by the trace id the user reports.
    [line] = [entry for entry in server_log.lines if entry.get("trace_id") == trace_id]
    assert "RuntimeError: " + INTERNAL_DETAIL in str(line["exception"])
    assert line["level"] == "ERROR"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "CALLER_MISSING"),
        ("not-a-token", "CALLER_INVALID"),
        ("expired", "CALLER_EXPIRED"),
        ("other-agency", "CALLER_WRONG_AGENCY"),
        ("other-key", "CALLER_INVALID"),
    ],
)
async def test_a_call_without_a_valid_caller_token_is_unauthenticated_and_never_handled(
    stub, served, keys_dir: Path, tmp_path: Path, token: str | None, reason: str
) -> None:
    person = Caller(agency_code=DEMO_AGENCY, subject="person-x", roles=frozenset({"clerk"}))
    tokens = {
        "expired": lambda: CallerTokenIssuer.from_keys_dir(keys_dir, ttl_seconds=-60).issue(person),
        "other-agency": lambda: TokenMint(keys_dir, agency_code="000.00.00.G22").person(),
        "other-key": lambda: TokenMint(tmp_path / "other-keys").person(),
    }
    sent = tokens[token]() if token in tokens else token
    servicer, _ = served
    handled_before = len(servicer.calls)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(stub, sent)

    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    error = remote_error(caught.value)
    assert (error.reason, error.domain) == (reason, ERROR_DOMAIN)
    assert len(servicer.calls) == handled_before


async def test_calls_made_while_serving_carry_the_original_caller(stub, mint: TokenMint) -> None:
    response = await call(stub, mint.person("person-fwd", clearance="confidential"), "forward")

    assert [(n.recipient_id, n.title) for n in response.notifications] == [
        ("person-fwd", "confidential")
    ]


async def test_background_calls_carry_the_service_identity(served, mint: TokenMint) -> None:
    _, address = served
    ch = open_channel(address, fallback_token=lambda: mint.service("workflow"))
    try:
        response = await notify_pb2_grpc.NotifyServiceStub(ch).ListNotifications(
            notify_pb2.ListNotificationsRequest()
        )
    finally:
        await ch.close()

    assert response.notifications[0].recipient_id == "service:workflow"


async def test_health_answers_serving_without_a_token(served) -> None:
    _, address = served
    async with channel(address) as ch:
        check = health_check(ch)
        overall = await check(health_pb2.HealthCheckRequest())
        notify = await check(health_pb2.HealthCheckRequest(service=NOTIFY))

    assert overall.status == health_pb2.HealthCheckResponse.SERVING
    assert notify.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_turns_not_serving_as_soon_as_stop_begins(
    keys_dir: Path, mint: TokenMint
) -> None:
    server, _, address = await start_server(keys_dir)
    stopping: asyncio.Future[None] | None = None
    try:
        async with channel(address) as ch:
            watch = health_watch(ch)(health_pb2.HealthCheckRequest())
            first = await asyncio.wait_for(watch.read(), timeout=5)
            stopping = asyncio.ensure_future(server.stop(0.5))
            second = await asyncio.wait_for(watch.read(), timeout=5)
    finally:
        await (stopping if stopping is not None else server.stop(0))

    assert isinstance(first, health_pb2.HealthCheckResponse)
    assert isinstance(second, health_pb2.HealthCheckResponse)
    assert first.status == health_pb2.HealthCheckResponse.SERVING
    assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_a_call_in_flight_when_stop_begins_still_completes(
    keys_dir: Path, mint: TokenMint
) -> None:
    server, _, address = await start_server(keys_dir)
    async with channel(address) as ch:
        stub = notify_pb2_grpc.NotifyServiceStub(ch)
        in_flight = asyncio.ensure_future(
            stub.ListNotifications(
                notify_pb2.ListNotificationsRequest(page_token="slow"),
                metadata=metadata(mint.person("person-7")),
            )
        )
        await asyncio.sleep(0.1)
        stopping = asyncio.ensure_future(server.stop(5))
        answer = await asyncio.wait_for(in_flight, timeout=5)
        await stopping
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListNotifications(
                notify_pb2.ListNotificationsRequest(), metadata=metadata(mint.person()), timeout=2
            )

    assert answer.notifications[0].recipient_id == "person-7"
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_reflection_lists_the_services_without_a_token(served) -> None:
    _, address = served
    async with channel(address) as ch:
        # The call ServerReflectionStub makes (its stubs declare neither the call nor an
        # asyncio channel).
        info = ch.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        stream = info(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        responses = [response async for response in stream]

    names = {s.name for s in responses[0].list_services_response.service}
    assert {NOTIFY, "grpc.health.v1.Health"} <= names


class WhoAmI(archive_pb2_grpc.ArchiveServiceServicer):
    """Answers every call type with the caller it saw."""

    async def GetObject(
        self, request: archive_pb2.GetObjectRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[archive_pb2.GetObjectResponse]:
        yield archive_pb2.GetObjectResponse(
            info=archive_pb2.ObjectInfo(sha256=current_caller().subject)
        )

    async def PutObject(
        self,
        request_iterator: AsyncIterator[archive_pb2.PutObjectRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> archive_pb2.PutObjectResponse:
        async for _ in request_iterator:
            pass
        return archive_pb2.PutObjectResponse(
            object=archive_pb2.ObjectInfo(sha256=current_caller().subject)
        )

    async def ReleaseUpload(
        self, request: archive_pb2.ReleaseUploadRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> archive_pb2.ReleaseUploadResponse:
        raise NotImplementedError  # not called here

    async def StatObject(
        self, request: archive_pb2.StatObjectRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> archive_pb2.StatObjectResponse:
        raise NotImplementedError  # not called here


async def test_streaming_calls_carry_the_caller_too(keys_dir: Path, mint: TokenMint) -> None:
    server = GrpcServer(
        verifier=CallerTokenVerifier.from_keys_dir(keys_dir, agency_code=DEMO_AGENCY),
        host="127.0.0.1",
        port=0,
    )
    server.add_service(
        archive_pb2_grpc.add_ArchiveServiceServicer_to_server,
        WhoAmI(),
        "vanban.archive.v1.ArchiveService",
    )
    port = await server.start()
    ch = open_channel(f"127.0.0.1:{port}", fallback_token=lambda: mint.service("directory"))
    try:
        stub = archive_pb2_grpc.ArchiveServiceStub(ch)
        streamed_out = [m async for m in stub.GetObject(archive_pb2.GetObjectRequest(sha256="x"))]

        async def parts() -> AsyncIterator[archive_pb2.PutObjectRequest]:
            yield archive_pb2.PutObjectRequest(
                header=archive_pb2.ObjectHeader(content_type="image/png")
            )
            yield archive_pb2.PutObjectRequest(chunk=b"\x89PNG")

        streamed_in = await stub.PutObject(parts())
    finally:
        await ch.close()
        await server.stop(0)

    assert streamed_out[0].info.sha256 == "service:directory"
    assert streamed_in.object.sha256 == "service:directory"
