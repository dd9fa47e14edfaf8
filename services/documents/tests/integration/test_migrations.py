"""Upgrading registers kept before: the register per secrecy level (3a8e5b1c9d47), and the move
of incoming documents into the one `documents` table (ad5fc67b100b) and back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from services.documents.tests.integration.conftest import run_documents
from services.documents.tests.integration.test_registration import get, register, this_year
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.documents.adapters.db.indexing import number_key, search_head
from vanban.documents.adapters.db.tables import (
    counters,
    document_files,
    document_types,
    documents,
)
from vanban.documents.app import MIGRATIONS
from vanban.platform.migrations import alembic_config, upgrade
from vanban.platform.testing import channel

BEFORE_REGISTERS = "751e380e4323"
BEFORE_REGISTRY = "c4d2e7f1a9b3"
REGISTRY = "ad5fc67b100b"

# The table incoming documents were kept in until ad5fc67b100b, as its migrations made it (the
# code no longer declares it).
incoming_documents = sa.table(
    "incoming_documents",
    *(
        sa.column(name)
        for name in (
            "id",
            "arrival_year",
            "arrival_number",
            "arrived_at",
            "issuer_code",
            "issuer_name",
            "code_number",
            "code_notation",
            "issued_date",
            "document_type",
            "subject",
            "priority",
            "secrecy",
            "file_sha256",
            "file_size",
            "file_content_type",
            "file_name",
            "registered_by",
        )
    ),
)


def legacy_document(number: int, secrecy: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "arrival_year": this_year(),
        "arrival_number": number,
        "arrived_at": datetime.now(UTC).replace(microsecond=0),
        "issuer_code": "000.00.00.G22",
        "issuer_name": "Bộ Nội vụ",
        "code_number": str(number),
        "code_notation": "BNV",
        "issued_date": date(2026, 1, 2),
        "document_type": "Công văn",
        "subject": "Văn bản cũ",
        "priority": "normal",
        "secrecy": secrecy,
        "file_sha256": f"{number:064x}",
        "file_size": 100 + number,
        "file_content_type": "application/pdf",
        "file_name": f"van-ban-{number}.pdf",
        "registered_by": "clerk",
    } | overrides


async def insert_legacy(url: str, rows: list[dict[str, Any]], last_number: int) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(incoming_documents), rows)
            await connection.execute(
                insert(counters).values(
                    series="incoming", year=this_year(), last_number=last_number
                )
            )
    finally:
        await engine.dispose()


async def test_secret_registers_continue_above_the_numbers_they_took_from_the_shared_one(
    tmp_path: Path, make_database: Callable[..., str], nats_server: Any, registration
) -> None:
    url = make_database("documents_legacy")
    await asyncio.to_thread(upgrade, url, MIGRATIONS, BEFORE_REGISTERS)
    # The shared register of the year ran 1..5; 2 and 5 were mật (confidential).
    legacy = [
        legacy_document(number, "confidential" if number in (2, 5) else "none")
        for number in range(1, 6)
    ]
    await insert_legacy(url, legacy, last_number=5)

    async with run_documents(tmp_path / "keys", url, nats_server.url) as service:
        async with channel(service.address) as ch:
            stub = DocumentRegistryServiceStub(ch)
            clerk = service.mint.person("clerk", roles=("clerk",), clearance="confidential")
            confidential = await register(
                stub, clerk, registration(secrecy=pb.SECRECY_CONFIDENTIAL)
            )
            ordinary = await register(stub, clerk, registration())
            # A document registered before the move reads as it did, under its old id.
            fifth = await get(stub, clerk, legacy[4]["id"])
    assert confidential.arrival_number == 6
    assert confidential.register_id == "incoming-confidential"
    assert ordinary.arrival_number == 6
    assert ordinary.register_id == "incoming"
    assert (fifth.arrival_number, fifth.register_id) == (5, "incoming-confidential")
    assert (fifth.code_number, fifth.code_notation, fifth.subject) == ("5", "BNV", "Văn bản cũ")
    assert fifth.file.sha256 == legacy[4]["file_sha256"]


async def test_the_registry_migration_moves_incoming_documents_and_gives_them_back(
    make_database: Callable[..., str],
) -> None:
    url = make_database("documents_move")
    await asyncio.to_thread(upgrade, url, MIGRATIONS, BEFORE_REGISTRY)
    legacy = [
        legacy_document(1, "none", code_number="05", code_notation="QĐ-BNV"),
        legacy_document(1, "secret", subject="Về việc bảo vệ bí mật nhà nước"),
        # A type the catalogue lacks: it stays readable, as an inactive type.
        legacy_document(2, "none", document_type="Thư công tác"),
    ]
    await insert_legacy(url, legacy, last_number=2)

    await asyncio.to_thread(upgrade, url, MIGRATIONS, REGISTRY)

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            moved = {
                row.id: row
                for row in await connection.execute(
                    select(documents, sa.func.cast(documents.c.search_tsv, sa.Text).label("tsv"))
                )
            }
            files = {
                row.document_id: row for row in await connection.execute(select(document_files))
            }
            unknown_type = (
                await connection.execute(
                    select(document_types).where(document_types.c.name == "Thư công tác")
                )
            ).one()
        assert set(moved) == {row["id"] for row in legacy}
        for old in legacy:
            new = moved[old["id"]]
            register_id = "incoming" if old["secrecy"] == "none" else f"incoming-{old['secrecy']}"
            assert (new.direction, new.status, new.received_via) == (
                "incoming",
                "registered",
                "electronic",
            )
            assert (new.register_id, new.reg_year, new.reg_number) == (
                register_id,
                old["arrival_year"],
                old["arrival_number"],
            )
            assert new.registered_at == old["arrived_at"]
            for column in (
                "issuer_code",
                "issuer_name",
                "code_number",
                "code_notation",
                "issued_date",
                "document_type",
                "subject",
                "priority",
                "secrecy",
            ):
                assert getattr(new, column) == old[column], column
            assert new.created_by == old["registered_by"]
            # The search text is computed the way the service indexes new registrations.
            assert new.number_key == number_key(old["code_number"], old["code_notation"])
            assert new.search_head == search_head(
                subject=old["subject"],
                code_number=old["code_number"],
                code_notation=old["code_notation"],
                issuer_name=old["issuer_name"],
            )
            assert new.tsv
            file = files[old["id"]]
            assert (file.role, file.position, file.sha256, file.size, file.file_name) == (
                "main",
                0,
                old["file_sha256"],
                old["file_size"],
                old["file_name"],
            )
        assert moved[legacy[0]["id"]].number_key == number_key("5", "QD-BNV")
        assert "bi mat" in moved[legacy[1]["id"]].search_head
        assert unknown_type.active is False

        await asyncio.to_thread(command.downgrade, alembic_config(url, MIGRATIONS), BEFORE_REGISTRY)

        async with engine.connect() as connection:
            back = [
                dict(row)
                for row in (await connection.execute(select(incoming_documents))).mappings()
            ]
            tables = set(await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
        assert sorted(back, key=lambda row: row["id"]) == sorted(legacy, key=lambda row: row["id"])
        assert "documents" not in tables and "document_files" not in tables
    finally:
        await engine.dispose()
