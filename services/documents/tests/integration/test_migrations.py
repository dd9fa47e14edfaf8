"""Upgrading a register kept before registers per secrecy level existed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from services.documents.tests.integration.conftest import run_documents
from services.documents.tests.integration.test_registration import register, this_year
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.documents.adapters.db.tables import counters, incoming_documents
from vanban.documents.app import MIGRATIONS
from vanban.platform.migrations import upgrade
from vanban.platform.testing import channel

BEFORE_REGISTERS = "751e380e4323"


def legacy_document(number: int, secrecy: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "arrival_year": this_year(),
        "arrival_number": number,
        "arrived_at": datetime.now(UTC),
        "issuer_code": "000.00.00.G22",
        "issuer_name": "Bộ Nội vụ",
        "code_number": str(number),
        "code_notation": "BNV",
        "issued_date": date(2026, 1, 2),
        "document_type": "Công văn",
        "subject": "Văn bản cũ",
        "priority": "normal",
        "secrecy": secrecy,
        "file_sha256": "a" * 64,
        "file_size": 1,
        "file_content_type": "application/pdf",
        "file_name": "a.pdf",
        "registered_by": "clerk",
    }


async def test_secret_registers_continue_above_the_numbers_they_took_from_the_shared_one(
    tmp_path: Path, make_database: Callable[..., str], nats_server: Any, registration
) -> None:
    url = make_database("documents_legacy")
    await asyncio.to_thread(upgrade, url, MIGRATIONS, BEFORE_REGISTERS)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            # The shared register of the year ran 1..5; 2 and 5 were mật (confidential).
            for number in range(1, 6):
                secrecy = "confidential" if number in (2, 5) else "none"
                await connection.execute(
                    insert(incoming_documents).values(legacy_document(number, secrecy))
                )
            await connection.execute(
                insert(counters).values(series="incoming", year=this_year(), last_number=5)
            )
    finally:
        await engine.dispose()

    async with run_documents(tmp_path / "keys", url, nats_server.url) as documents:
        async with channel(documents.address) as ch:
            stub = DocumentRegistryServiceStub(ch)
            clerk = documents.mint.person("clerk", roles=("clerk",), clearance="confidential")
            confidential = await register(
                stub, clerk, registration(secrecy=pb.SECRECY_CONFIDENTIAL)
            )
            ordinary = await register(stub, clerk, registration())
    assert confidential.arrival_number == 6
    assert ordinary.arrival_number == 6
