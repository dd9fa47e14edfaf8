"""500 clerks issuing at once through two replicas of the documents service on one database: the
register's numbers come out gapless and unique, and so do the identifiers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from services.documents.tests.integration.conftest import (
    make_draft_request,
    run_directory,
    run_documents,
)
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.documents.adapters.db.tables import counters
from vanban.documents.adapters.db.tables import documents as documents_table
from vanban.platform.testing import channel, metadata

ISSUES = 500


async def test_500_concurrent_issues_from_two_replicas_are_numbered_1_to_500_without_gaps(
    tmp_path: Path, make_database: Callable[..., str], nats_server: Any
) -> None:
    keys = tmp_path / "keys"
    url = make_database("documents_replicas")
    async with contextlib.AsyncExitStack() as stack:
        directory = await stack.enter_async_context(
            run_directory(keys, make_database("documents_replicas_directory"), nats_server.url)
        )
        replicas = [
            await stack.enter_async_context(
                run_documents(keys, url, nats_server.url, peers={"directory": directory})
            )
            for _ in range(2)
        ]
        stubs = [
            DocumentRegistryServiceStub(await stack.enter_async_context(channel(replica.address)))
            for replica in replicas
        ]
        mint = replicas[0].mint
        author = metadata(mint.person("cv-an", roles=("specialist",), units=("VP",)))
        clerks = [metadata(mint.person(f"vt-{i}", roles=("clerk",))) for i in range(4)]

        started = time.perf_counter()
        drafts = await asyncio.gather(
            *(
                stubs[i % 2].DraftOutgoingDocument(
                    make_draft_request(
                        subject=f"Về việc giao chỉ tiêu số {i}",
                        document_type="Quyết định" if i % 5 else "Công văn",
                        content=f"du thao {i}".encode(),
                    ),
                    metadata=author,
                )
                for i in range(ISSUES)
            )
        )

        drafted = time.perf_counter() - started
        started = time.perf_counter()
        issued = await asyncio.gather(
            *(
                stubs[i % 2].IssueOutgoingDocument(
                    pb.IssueOutgoingDocumentRequest(id=response.document.id),
                    metadata=clerks[i % len(clerks)],
                )
                for i, response in enumerate(drafts)
            )
        )
        elapsed = time.perf_counter() - started
        # Figures, not assertions. Both replicas, the directory and the callers share this one
        # Python process (one core): the drafts, which take no lock, give the scale to read the
        # issues against.
        print(
            f"\n{ISSUES} drafts through 2 replicas: {drafted:.2f} s; "
            f"{ISSUES} issues: {elapsed:.2f} s ({ISSUES / elapsed:.0f} issues/s)"
        )

        documents = [response.document for response in issued]
        assert sorted(d.number for d in documents) == list(range(1, ISSUES + 1))
        assert len({d.identifier for d in documents}) == ISSUES
        assert len({(d.code_number, d.code_notation) for d in documents}) == ISSUES
        assert {d.code_notation for d in documents} == {"QĐ-UBND", "UBND-VP"}
        assert all(d.code_number == f"{d.number:02d}" for d in documents)
        # As stored: the register holds each number once, and its counter stands at the last.
        async with replicas[0].engine.connect() as connection:
            stored = (
                (
                    await connection.execute(
                        select(documents_table.c.reg_number)
                        .where(documents_table.c.status == "issued")
                        .order_by(documents_table.c.reg_number)
                    )
                )
                .scalars()
                .all()
            )
            counter = (
                await connection.execute(
                    select(func.sum(counters.c.last_number)).where(counters.c.series == "outgoing")
                )
            ).scalar_one()
        assert stored == list(range(1, ISSUES + 1))
        assert counter == ISSUES
