"""The documents service run in-process against a real PostgreSQL and NATS, called over gRPC."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.documents.app import build
from vanban.documents.settings import DocumentsSettings
from vanban.platform.events.nats import connect
from vanban.platform.telemetry import setup_telemetry
from vanban.platform.testing import DEMO_AGENCY, TokenMint, channel, running


@pytest.fixture(scope="session", autouse=True)
def telemetry() -> None:
    # What vanban.platform.command.main does in production; without it no trace context reaches the events.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        setup_telemetry("documents-tests", agency_code=DEMO_AGENCY)


@dataclass
class Documents:
    """A running documents service: where to call it, who may, and its database."""

    address: str
    mint: TokenMint
    engine: AsyncEngine


@contextlib.asynccontextmanager
async def run_documents(
    keys_dir: Path, database_url: str, nats_url: str
) -> AsyncIterator[Documents]:
    mint = TokenMint(keys_dir)
    settings = DocumentsSettings(
        agency_code=DEMO_AGENCY,
        keys_dir=keys_dir,
        database_url=database_url,
        nats_url=nats_url,
        grpc_port=0,
        shutdown_grace=2.0,
    )
    engine = create_async_engine(database_url)
    try:
        async with running(build(settings)) as address:
            yield Documents(address=address, mint=mint, engine=engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def documents(
    tmp_path_factory: pytest.TempPathFactory, make_database: Callable[..., str], nats_server: Any
) -> AsyncIterator[Documents]:
    async with run_documents(
        tmp_path_factory.mktemp("keys"), make_database("documents"), nats_server.url
    ) as service:
        yield service


@pytest.fixture
async def stub(documents: Documents) -> AsyncIterator[DocumentRegistryServiceStub]:
    async with channel(documents.address) as ch:
        yield DocumentRegistryServiceStub(ch)


@pytest.fixture(scope="module")
async def nc(nats_server: Any) -> AsyncIterator[Client]:
    client = await connect(nats_server.url, name="documents-tests")
    try:
        yield client
    finally:
        await client.close()


def make_request(**overrides: Any) -> pb.RegisterIncomingDocumentRequest:
    """A registration a clerk would make; override any field."""
    content = overrides.pop("content", b"%PDF-1.7 test")
    values: dict[str, Any] = {
        "issuer_code": "000.00.00.G22",
        "issuer_name": "Bộ Nội vụ",
        "code_number": "05",
        "code_notation": "QĐ-BNV",
        "issued_date": "2024-12-30",
        "document_type": "Công văn",
        "subject": "Về việc hướng dẫn công tác văn thư năm 2025",
        "priority": pb.PRIORITY_URGENT,
        "secrecy": pb.SECRECY_NONE,
        "file": pb.FileRef(
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            content_type="application/pdf",
            file_name="cong-van-05.pdf",
        ),
    }
    values.update(overrides)
    return pb.RegisterIncomingDocumentRequest(**values)


@pytest.fixture(scope="session")
def registration() -> Callable[..., pb.RegisterIncomingDocumentRequest]:
    return make_request


@pytest.fixture
def fresh_documents(
    tmp_path: Path, make_database: Callable[..., str], nats_server: Any
) -> Callable[[], contextlib.AbstractAsyncContextManager[Documents]]:
    """Another documents service with an empty database of its own."""
    return lambda: run_documents(
        tmp_path / "keys", make_database("documents_fresh"), nats_server.url
    )
