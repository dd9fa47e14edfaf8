"""A peer that is briefly unavailable: reads go through on a second attempt, writes do not."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import grpc
import pytest

from vanban.contracts.documents.v1 import documents_pb2, documents_pb2_grpc
from vanban.platform.grpc.client import open_channel


class Flaky(documents_pb2_grpc.DocumentRegistryServiceServicer):
    """Answers UNAVAILABLE to the first call of each method, then answers normally."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    async def _first_unavailable(self, method: str, context: grpc.aio.ServicerContext) -> None:
        self.calls[method] += 1
        if self.calls[method] == 1:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")

    async def GetIncomingDocument(
        self, request: documents_pb2.GetIncomingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> documents_pb2.GetIncomingDocumentResponse:
        await self._first_unavailable("get", context)
        return documents_pb2.GetIncomingDocumentResponse(
            document=documents_pb2.IncomingDocument(id=request.id)
        )

    async def RegisterIncomingDocument(
        self,
        request: documents_pb2.RegisterIncomingDocumentRequest,
        context: grpc.aio.ServicerContext,
    ) -> documents_pb2.RegisterIncomingDocumentResponse:
        await self._first_unavailable("register", context)
        return documents_pb2.RegisterIncomingDocumentResponse()


@pytest.fixture
async def flaky() -> AsyncIterator[
    tuple[Flaky, documents_pb2_grpc.DocumentRegistryServiceAsyncStub]
]:
    server = grpc.aio.server()
    # Only the two methods the retry policy is tested on; the others answer UNIMPLEMENTED.
    servicer = Flaky()  # type: ignore[abstract]
    documents_pb2_grpc.add_DocumentRegistryServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = open_channel(f"127.0.0.1:{port}")
    try:
        yield servicer, documents_pb2_grpc.DocumentRegistryServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(None)


async def test_a_read_that_met_unavailable_is_sent_again_and_succeeds(
    flaky: tuple[Flaky, documents_pb2_grpc.DocumentRegistryServiceAsyncStub],
) -> None:
    servicer, stub = flaky

    answer = await stub.GetIncomingDocument(
        documents_pb2.GetIncomingDocumentRequest(id="d-1"), timeout=5
    )

    assert answer.document.id == "d-1"
    assert servicer.calls["get"] == 2


async def test_a_registration_that_met_unavailable_is_not_sent_again(
    flaky: tuple[Flaky, documents_pb2_grpc.DocumentRegistryServiceAsyncStub],
) -> None:
    servicer, stub = flaky

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.RegisterIncomingDocument(
            documents_pb2.RegisterIncomingDocumentRequest(), timeout=5
        )

    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    assert servicer.calls["register"] == 1
