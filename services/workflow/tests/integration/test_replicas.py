"""Two workflow replicas running as the service runs (issue 9's acceptance): the same database,
the same NATS, each with its own loop firing reminders and overdue notices. Every task's reminder
and overdue notice reach JetStream once, never twice."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
from nats.js.errors import NotFoundError
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from vanban.contracts.workflow.v1 import events_pb2
from vanban.platform.events.nats import stream_name
from vanban.platform.testing import DEMO_AGENCY, TokenMint, running
from vanban.workflow.adapters.db.tables import assignments, task_due, tasks
from vanban.workflow.adapters.due import SUBJECTS
from vanban.workflow.app import build
from vanban.workflow.domain.due import DueKind
from vanban.workflow.settings import WorkflowSettings

TASKS = 120


async def due_notices(nats_url: str) -> Counter[tuple[str, str]]:
    """(task id, subject) of every due notice the workflow's stream holds, counted."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        stream = stream_name("workflow")
        info = await js.stream_info(stream)
        seen: Counter[tuple[str, str]] = Counter()
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                message = await js.get_msg(stream, sequence)
            except NotFoundError:
                continue
            if message.subject in SUBJECTS.values():
                event = events_pb2.TaskDue.FromString(message.data or b"")
                seen[(event.task.id, message.subject or "")] += 1
        return seen
    finally:
        await connection.close()


async def test_two_running_replicas_send_each_reminder_and_overdue_notice_once(
    make_database: Callable[..., str], nats_server: Any, tmp_path: Path
) -> None:
    url = make_database("workflow")
    keys = tmp_path / "keys"
    TokenMint(keys)  # the agency's caller keys, as the launcher makes them

    def settings() -> WorkflowSettings:
        return WorkflowSettings(
            agency_code=DEMO_AGENCY,
            keys_dir=keys,
            database_url=url,
            nats_url=nats_server.url,
            grpc_port=0,
            shutdown_grace=2.0,
            # Peers are never asked here: the loops only read and write the database.
            peers={"documents": "127.0.0.1:9", "directory": "127.0.0.1:9"},
            due_poll_seconds=0.05,
        )

    engine = create_async_engine(url)
    try:
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(2):
                await stack.enter_async_context(running(build(settings())))
            now = datetime.now(UTC)
            assignment = str(uuid.uuid4())
            ids = [str(uuid.uuid4()) for _ in range(TASKS)]
            async with engine.begin() as connection:
                await connection.execute(
                    insert(assignments).values(
                        id=assignment, document_id=str(uuid.uuid4()), lead_unit="A",
                        coordinating_units=[], informed_units=[], opinion="",
                        deadline=date.today(), assigned_by="leader", on_behalf_of=None,
                        assigned_at=now,
                    )
                )  # fmt: skip
                await connection.execute(
                    insert(tasks),
                    [
                        {
                            "id": task_id, "assignment_id": assignment,
                            "document_id": str(uuid.uuid4()), "parent_id": None,
                            "role": "lead", "holder_unit": f"U{i}", "holder_person": None,
                            "holder_key": f"unit:U{i}", "deadline": date.today(), "note": "",
                            "state": "assigned", "created_by": "leader", "on_behalf_of": None,
                            "created_at": now,
                        }
                        for i, task_id in enumerate(ids)
                    ],
                )  # fmt: skip
                # Both notices fall due while both replicas poll.
                await connection.execute(
                    insert(task_due),
                    [
                        {"task_id": t, "kind": k.value, "due_at": now - timedelta(seconds=1)}
                        for t in ids
                        for k in DueKind
                    ],
                )

            async def waiting() -> int:
                async with engine.connect() as connection:
                    return int(
                        (
                            await connection.execute(
                                select(func.count()).where(task_due.c.fired_at.is_(None))
                            )
                        ).scalar_one()
                    )

            for _ in range(400):
                if await waiting() == 0:
                    break
                await asyncio.sleep(0.05)
            assert await waiting() == 0
            # The outbox relays publish what the loops wrote; give them their turn.
            for _ in range(200):
                seen = await due_notices(nats_server.url)
                if sum(seen.values()) >= 2 * TASKS:
                    break
                await asyncio.sleep(0.05)
    finally:
        await engine.dispose()

    assert set(seen) == {(t, SUBJECTS[k]) for t in ids for k in DueKind}
    assert max(seen.values()) == 1, "never two notices of one kind for one task"
