"""The documents service run in-process against a real PostgreSQL and NATS, called over gRPC."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from nats.aio.client import Client
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.directory.app import build as build_directory
from vanban.directory.bootstrap import run_bootstrap
from vanban.directory.domain.model import Agency
from vanban.directory.settings import DirectorySettings
from vanban.documents.app import build
from vanban.documents.settings import DocumentsSettings
from vanban.platform.events.nats import connect
from vanban.platform.telemetry import setup_telemetry
from vanban.platform.testing import DEMO_AGENCY, TokenMint, channel, running

# The issuing agency as the directory knows it: its abbreviation heads every ký hiệu.
AGENCY = Agency(code=DEMO_AGENCY, name="Ủy ban nhân dân tỉnh Demo", abbreviation="UBND")


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
    keys_dir: Path,
    database_url: str,
    nats_url: str,
    *,
    peers: dict[str, str] | None = None,
    **overrides: Any,
) -> AsyncIterator[Documents]:
    """`peers`: where the services documents calls are ({"directory": address} to issue);
    `overrides`: other settings. The registry runs without the workflow here: drafts are
    numbered without an approval chain (tests/e2e/test_approvals.py runs both)."""
    overrides.setdefault("approval_required", False)
    mint = TokenMint(keys_dir)
    settings = DocumentsSettings(
        agency_code=DEMO_AGENCY,
        keys_dir=keys_dir,
        database_url=database_url,
        nats_url=nats_url,
        grpc_port=0,
        shutdown_grace=2.0,
        peers=peers or {},
        **overrides,
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


@contextlib.asynccontextmanager
async def run_directory(keys_dir: Path, database_url: str, nats_url: str) -> AsyncIterator[str]:
    """The real directory with the demo agency (UBND) and its units (VP: Văn phòng, PTH: Phòng
    Tổng hợp, abbreviated TH); yields its address."""
    TokenMint(keys_dir)  # makes the key pair both services trust, when it is missing
    await run_bootstrap(database_url=database_url, agency=AGENCY, demo_password="vanban-demo")
    settings = DirectorySettings(
        agency_code=DEMO_AGENCY,
        keys_dir=keys_dir,
        nats_url=nats_url,
        database_url=database_url,
        grpc_port=0,
        shutdown_grace=2.0,
    )
    async with running(build_directory(settings)) as address:
        yield address


@pytest.fixture(scope="module")
async def issuing(
    tmp_path_factory: pytest.TempPathFactory, make_database: Callable[..., str], nats_server: Any
) -> AsyncIterator[Documents]:
    """A documents service that issues: the directory runs beside it, trusting the same keys."""
    keys = tmp_path_factory.mktemp("keys")
    async with (
        run_directory(keys, make_database("documents_directory"), nats_server.url) as directory,
        run_documents(
            keys,
            make_database("documents_issuing"),
            nats_server.url,
            peers={"directory": directory},
        ) as service,
    ):
        yield service


@pytest.fixture
async def issuing_stub(issuing: Documents) -> AsyncIterator[DocumentRegistryServiceStub]:
    async with channel(issuing.address) as ch:
        yield DocumentRegistryServiceStub(ch)


def make_draft_request(**overrides: Any) -> pb.DraftOutgoingDocumentRequest:
    """An outgoing draft a specialist of the Văn phòng would start; override any field."""
    content = overrides.pop("content", b"%PDF-1.7 draft")
    values: dict[str, Any] = {
        "document_type": "Quyết định",
        "subject": "Về việc ban hành quy chế công tác văn thư",
        "priority": pb.PRIORITY_NORMAL,
        "secrecy": pb.SECRECY_NONE,
        "recipients": [pb.Recipient(organ_id="000.00.00.G22", organ_name="Bộ Nội vụ")],
        "drafting_unit": "VP",
        "file": pb.FileRef(
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            content_type="application/pdf",
            file_name="du-thao.pdf",
        ),
    }
    values.update(overrides)
    return pb.DraftOutgoingDocumentRequest(**values)


Message = TypeVar("Message", pb.IncomingDocument, pb.OutgoingDocument)


def without_digitization(message: Message) -> Message:
    """The document without the progress of its text job: events carry the document only, and
    an issue's answer names no job (issue queues none)."""
    copy = type(message)()
    copy.CopyFrom(message)
    copy.ClearField("digitization")
    return copy
