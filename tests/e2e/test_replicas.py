"""Issue 13's acceptance: two replicas of every stateless service side by side, as
`vanban up --replicas 2` runs them (what Kubernetes runs), through one registration flow and the
workflow's scheduler. No number, event, notice or reminder comes twice, and every replica does
a share of the work (or the test would prove nothing): the peers spread their calls over both
(gRPC round_robin), both consume the same durables, both scan for what fell due.

Which replica served what is told by the spans each process sends (`service.instance.id` is its
process name) and, for the workers and the scheduler, by their logs.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.conftest import start_platform, stop_platform
from tests.e2e.otlp import OtlpReceiver, ReceivedSpan
from tests.e2e.support import Gateway, eventually, make_pdf, query, stored_events
from vanban.contracts.documents.v1 import events_pb2 as documents_events
from vanban.contracts.workflow.v1 import events_pb2 as workflow_events
from vanban.launcher.platform import Platform, replica_names

REPLICAS = 2
# Enough that the scheduler has more than one batch (100) of reminders to fire: 2 per task.
DOCUMENTS = 60
CONCURRENCY = 8
REGISTERED = "vanban.documents.incoming.registered"
ASSIGNED = "vanban.workflow.incoming.assigned"
DUE = {"vanban.workflow.task.due_soon", "vanban.workflow.task.overdue"}
# OpenTelemetry span kinds as OTLP numbers them.
SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5
# After everything arrived, how long to keep watching for a late copy: a few rounds of the
# outbox relays' poll (1 s) and of the consumers' fetch.
QUIET_SECONDS = 4


@dataclass
class Replicated:
    platform: Platform
    otlp: OtlpReceiver
    gateways: list[Gateway]
    # Which replica served how many of each kind of call, for the report at the end.
    served: dict[str, dict[str, int]]

    @property
    def nats_url(self) -> str:
        return self.platform.agencies[0].nats.url

    def log(self, process: str) -> list[dict[str, Any]]:
        path = self.platform.agencies[0].root / "logs" / f"{process}.log"
        return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    otlp = OtlpReceiver()
    otlp.start()
    started = time.monotonic()
    try:
        # Each workflow replica looks for what fell due every 0.2 s (30 s in production).
        platform, data_dir = start_platform(
            otlp, replicas=REPLICAS, extra_env={"VANBAN_WORKFLOW_DUE_POLL_SECONDS": "0.2"}
        )
        print(f"\nplatform with {REPLICAS} replicas up in {time.monotonic() - started:.1f} s")
        agency = platform.agencies[0]
        assert len(agency.gateway_urls) == REPLICAS
        replicated = Replicated(platform, otlp, [Gateway(url) for url in agency.gateway_urls], {})
        try:
            yield replicated
        finally:
            print(f"served by each replica: {json.dumps(replicated.served, indent=1)}")
            stop_platform(platform, data_dir)
    finally:
        otlp.stop()


def fall_due_together(platform: Platform, tasks: list[str]) -> tuple[int, int]:
    """Makes both notices of `tasks` due now (the test's clock: days pass), in a transaction
    that holds the table until every workflow replica waits to scan it, so that all of them
    scan the same rows at the same moment: the race the scheduler's row locks are for. How many
    notices fell due, and how many scans waited."""
    database = platform.agencies[0].database_name("workflow")

    async def run() -> tuple[int, int]:
        engine = create_async_engine(platform.postgres.dsn(database))
        try:
            async with engine.connect() as holder, engine.connect() as watcher:
                async with holder.begin():
                    await holder.execute(text("LOCK TABLE task_due IN ACCESS EXCLUSIVE MODE"))
                    changed = (
                        await holder.execute(
                            text(
                                "UPDATE task_due SET due_at = now() - interval '1 second'"
                                " WHERE fired_at IS NULL AND task_id = ANY(:tasks)"
                            ),
                            {"tasks": tasks},
                        )
                    ).rowcount
                    deadline = time.monotonic() + 20
                    while True:
                        # A transaction of its own each time: the statistics views keep what
                        # they showed first for the rest of a transaction.
                        async with watcher.begin():
                            waiting = (
                                await watcher.execute(
                                    text(
                                        "SELECT count(*) FROM pg_stat_activity"
                                        " WHERE datname = current_database()"
                                        " AND wait_event_type = 'Lock' AND query LIKE '%task_due%'"
                                    )
                                )
                            ).scalar_one()
                        if waiting >= REPLICAS or time.monotonic() > deadline:
                            break
                        await asyncio.sleep(0.05)
                return changed, waiting
        finally:
            await engine.dispose()

    return asyncio.run(run())


def by_instance(
    otlp: OtlpReceiver, service: str, kind: int, match: Callable[[ReceivedSpan], bool]
) -> Counter[str]:
    """How many spans of `kind` that `match` each replica of `service` sent."""
    return Counter(
        span.instance
        for span in otlp.find(
            lambda s: s.service == f"vanban-{service}" and s.kind == kind and match(s)
        )
    )


def named(end: str) -> Callable[[ReceivedSpan], bool]:
    return lambda span: span.name.endswith(end)


def every_replica(service: str) -> set[str]:
    return set(replica_names(service, REPLICAS))


def spread(
    replicated: Replicated,
    what: str,
    service: str,
    kind: int,
    match: Callable[[ReceivedSpan], bool],
    total: int | None,
) -> Counter[str]:
    """Waits until the spans of `total` calls (of some on every replica when None) have
    arrived; checks that every replica of `service` served some and that they add up."""

    def counted() -> Counter[str] | None:
        seen = by_instance(replicated.otlp, service, kind, match)
        if total is None:
            return seen if set(seen) == every_replica(service) else None
        return seen if sum(seen.values()) >= total else None

    seen = eventually(counted, timeout=20) or by_instance(replicated.otlp, service, kind, match)
    replicated.served[what] = dict(sorted(seen.items()))
    assert set(seen) == every_replica(service), f"{what}: not every replica served: {seen}"
    if total is not None:
        assert sum(seen.values()) == total, f"{what}: {seen}"
    return seen


@pytest.fixture(scope="module")
def registered(replicated: Replicated) -> list[dict[str, Any]]:
    """DOCUMENTS incoming documents registered at once, every other one through each gateway,
    with a token one gateway gave (a session is every replica's)."""
    token = replicated.gateways[-1].token("vanthu")
    pdfs = [make_pdf(f"Cong van den so {index} qua ban sao") for index in range(DOCUMENTS)]

    def register(index: int) -> dict[str, Any]:
        gateway = Gateway(replicated.gateways[index % REPLICAS].base_url)
        response = gateway.register(token, pdf=pdfs[index])
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        documents = list(pool.map(register, range(DOCUMENTS)))
    print(f"{DOCUMENTS} registrations in {time.monotonic() - started:.1f} s")
    return documents


def test_registrations_through_both_gateways_are_numbered_published_and_notified_once(
    replicated: Replicated, registered: list[dict[str, Any]]
) -> None:
    platform = replicated.platform
    ids = {document["id"] for document in registered}

    # One number each, no gap: the arrival numbers of the year's register 1..N.
    assert sorted(document["arrival_number"] for document in registered) == list(
        range(1, DOCUMENTS + 1)
    )
    books: dict[tuple[str, int], list[int]] = {}
    for register_id, year, number in query(
        platform,
        "documents",
        "SELECT register_id, reg_year, reg_number FROM documents"
        " WHERE direction = 'incoming' AND reg_number IS NOT NULL",
    ):
        books.setdefault((register_id, year), []).append(number)
    assert sum(len(numbers) for numbers in books.values()) == DOCUMENTS
    for book, numbers in books.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), book

    # Every notice once: each clerk gets one per document, whichever notify replica took it.
    def notices() -> Counter[tuple[str, str]]:
        rows = query(
            platform,
            "notify",
            "SELECT recipient_id, resource FROM notifications WHERE kind = 'incoming_registered'",
        )
        return Counter((recipient, resource.rsplit("/", 1)[-1]) for recipient, resource in rows)

    assert eventually(lambda: {d for _, d in notices()} >= ids, timeout=60), "not all notified"
    time.sleep(QUIET_SECONDS)
    seen = notices()
    clerks = {recipient for recipient, _ in seen}
    assert clerks, "no clerk was notified"
    assert {key: count for key, count in seen.items() if key[1] in ids} == {
        (clerk, document): 1 for clerk in clerks for document in ids
    }

    # Every event once in the stream, each document's registration published once.
    events = stored_events(replicated.nats_url)
    assert not [e.subject for e in events if e.subject.startswith("vanban.dlq.")], "dead letters"
    copies = Counter((event.stream, event.headers["Nats-Msg-Id"]) for event in events)
    assert copies and max(copies.values()) == 1, copies.most_common(3)
    published = Counter(
        documents_events.IncomingDocumentRegistered.FromString(event.data).document.id
        for event in events
        if event.subject == REGISTERED
    )
    assert {document: published[document] for document in ids} == dict.fromkeys(ids, 1)

    # Both replicas of each service on the way served some of the calls, and the outbox relays
    # of the two documents replicas never published one event twice between them.
    spread(
        replicated,
        "gateway POST /v1/incoming-documents",
        "gateway",
        SERVER,
        lambda span: span.attributes.get("http.route") == "/v1/incoming-documents",
        DOCUMENTS,
    )
    spread(
        replicated,
        "documents RegisterIncomingDocument",
        "documents",
        SERVER,
        named("/RegisterIncomingDocument"),
        DOCUMENTS,
    )
    spread(replicated, "archive PutObject", "archive", SERVER, named("/PutObject"), DOCUMENTS)
    spread(replicated, "directory (any call)", "directory", SERVER, named(""), None)
    spread(
        replicated,
        "notify consumer incoming.registered",
        "notify",
        CONSUMER,
        named(f"{REGISTERED} process"),
        DOCUMENTS,
    )

    def relayed() -> Counter[str]:
        return Counter(
            span.attributes.get("messaging.message.id", "")
            for span in replicated.otlp.find(
                lambda s: s.kind == PRODUCER and s.name == f"{REGISTERED} publish"
            )
        )

    eventually(lambda: len(relayed()) >= DOCUMENTS, timeout=20)
    publishes = relayed()
    assert len(publishes) >= DOCUMENTS and max(publishes.values()) == 1, publishes.most_common(3)
    replicated.served["documents outbox relay publishes"] = dict(
        sorted(
            by_instance(
                replicated.otlp, "documents", PRODUCER, named(f"{REGISTERED} publish")
            ).items()
        )
    )

    # The text workers: each document's text extracted once, by one of the two.
    def claimed() -> dict[str, Counter[str]]:
        return {
            worker: Counter(
                line["document_id"]
                for line in replicated.log(worker)
                if line.get("message") == "text job claimed"
            )
            for worker in replica_names("documents-text", REPLICAS)
        }

    eventually(lambda: set().union(*claimed().values()) >= ids, timeout=60)
    by_worker = claimed()
    together = sum(by_worker.values(), Counter())
    assert {document: together[document] for document in ids} == dict.fromkeys(ids, 1)
    replicated.served["documents-text jobs claimed"] = {
        worker: len(documents) for worker, documents in by_worker.items()
    }
    assert all(by_worker.values()), f"a text worker took no job: {by_worker}"


def test_both_workflow_replicas_scan_and_each_reminder_goes_out_once(
    replicated: Replicated, registered: list[dict[str, Any]]
) -> None:
    platform = replicated.platform
    ids = [document["id"] for document in registered]
    leader = replicated.gateways[0].token("lanhdao")

    def assign(index: int) -> None:
        gateway = Gateway(replicated.gateways[index % REPLICAS].base_url)
        answer = gateway.http.post(
            f"/v1/incoming-documents/{ids[index]}/assignment",
            headers={"Authorization": f"Bearer {leader}"},
            json={"lead_unit": "VP", "deadline_working_days": 10, "opinion": "Giao Văn phòng."},
        )
        assert answer.status_code == 201, answer.text

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(assign, range(DOCUMENTS)))
    tasks = {
        task_id
        for (task_id,) in query(
            platform,
            "workflow",
            "SELECT id FROM tasks WHERE document_id = ANY(:ids)",
            ids=ids,
        )
    }
    assert len(tasks) == DOCUMENTS
    # A reminder on the working day before the deadline and an overdue notice after it.
    waiting = query(
        platform,
        "workflow",
        "SELECT count(*) FROM task_due WHERE fired_at IS NULL AND task_id = ANY(:tasks)",
        tasks=list(tasks),
    )[0][0]
    assert waiting == 2 * DOCUMENTS

    # Days pass: both notices of every task fall due at once, as both replicas scan.
    made_due, scanning = fall_due_together(platform, list(tasks))
    assert (made_due, scanning) == (2 * DOCUMENTS, REPLICAS)

    def due_events() -> Counter[tuple[str, str]]:
        return Counter(
            (workflow_events.TaskDue.FromString(event.data).task.id, event.subject)
            for event in stored_events(replicated.nats_url)
            if event.subject in DUE
        )

    assert eventually(lambda: sum(due_events().values()) >= 2 * DOCUMENTS, timeout=60)
    time.sleep(QUIET_SECONDS)
    sent = due_events()
    assert set(sent) == {(task, subject) for task in tasks for subject in DUE}
    assert max(sent.values()) == 1, [key for key, count in sent.items() if count > 1][:5]
    fired = query(
        platform,
        "workflow",
        "SELECT count(*) FROM task_due WHERE fired_at IS NULL AND task_id = ANY(:tasks)",
        tasks=list(tasks),
    )[0][0]
    assert fired == 0

    # Both replicas scanned (their statements on task_due), and what each fired adds up.
    def scans(span: ReceivedSpan) -> bool:
        statement = span.attributes.get("db.statement", span.attributes.get("db.query.text", ""))
        return span.service == "vanban-workflow" and span.kind == CLIENT and "task_due" in statement

    scanned = Counter(span.instance for span in replicated.otlp.find(scans))
    assert set(scanned) == every_replica("workflow"), scanned
    taken = {
        process: sum(
            line["taken"]
            for line in replicated.log(process)
            if line.get("message") == "due tasks fired"
        )
        for process in replica_names("workflow", REPLICAS)
    }
    replicated.served["workflow due rows fired"] = taken
    assert sum(taken.values()) == 2 * DOCUMENTS, taken
    spread(
        replicated,
        "workflow AssignIncomingDocument",
        "workflow",
        SERVER,
        named("/AssignIncomingDocument"),
        DOCUMENTS,
    )

    # The documents' reach widened once per assignment, whichever documents replica took it.
    def reach_audits() -> Counter[str]:
        rows = query(
            platform,
            "documents",
            "SELECT resource FROM audit_log WHERE action = 'incoming.reach'",
        )
        return Counter(resource.rsplit("/", 1)[-1] for (resource,) in rows)

    assert eventually(lambda: set(reach_audits()) >= set(ids), timeout=30)
    audits = reach_audits()
    assert {document: audits[document] for document in ids} == dict.fromkeys(ids, 1)
    reached = query(
        platform, "documents", "SELECT reach FROM documents WHERE id = ANY(:ids)", ids=ids
    )
    assert all(list(reach).count("unit:VP") == 1 for (reach,) in reached)
    spread(
        replicated,
        "documents consumer incoming.assigned",
        "documents",
        CONSUMER,
        named(f"{ASSIGNED} process"),
        DOCUMENTS,
    )


def test_every_replica_of_signing_and_exchange_answers_through_either_gateway(
    replicated: Replicated,
) -> None:
    token = replicated.gateways[0].token("vanthu")
    for index in range(4 * REPLICAS):
        gateway = replicated.gateways[index % REPLICAS]
        headers = {"Authorization": f"Bearer {token}"}
        certificates = gateway.http.get("/v1/certificates", headers=headers)
        assert certificates.status_code == 200, certificates.text
        inbox = gateway.http.get("/v1/exchange/inbox", headers=headers)
        assert inbox.status_code == 200, inbox.text
    calls = 4 * REPLICAS
    spread(
        replicated, "signing ListCertificates", "signing", SERVER, named("/ListCertificates"), calls
    )
    spread(replicated, "exchange ListInbox", "exchange", SERVER, named("/ListInbox"), calls)


def test_vanban_status_lists_every_replica_serving(replicated: Replicated) -> None:
    agency = replicated.platform.agencies[0]
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "vanban.launcher.cli",
            "--data-dir",
            str(replicated.platform.data_dir),
            "status",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert report.returncode == 0, report.stdout
    # One line for each process of the agency (indented under it): its name first.
    listed = {line.split()[0]: line for line in report.stdout.splitlines() if line[:2] == "  "}
    assert set(listed) == set(agency.replica_of), report.stdout
    assert all("SERVING" in line for line in listed.values()), report.stdout
    for gateway, port in agency.http_ports.items():
        assert f"http :{port} ready" in listed[gateway], report.stdout
