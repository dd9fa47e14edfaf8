"""Issue 11's acceptance (ADR 0012 §8): while 50 documents are on their way from H99 to H98,
H99's exchange, the axis and H98's exchange are each killed -9 at a different moment and started
again, and H98's exchange once more while its clerk registers what arrived. Every document
arrives exactly once as an incoming document, every status (01, 03) comes back, nothing is
doubled.

The moments, as the documents are issued one after another:

- after 10: H99's exchange dies (whatever it was making or sending is cut off); the next 15
  are issued while it is down, their agency signatures waiting as events on H99's NATS;
- after 25: it starts again and makes and sends those 15 at once; as the first of them
  reaches H98, the axis dies under the burst (sends unacknowledged, pulls and acks cut off) and
  comes back a few seconds later;
- after 32: H98's exchange dies (arrivals and its 01s wait on the axis and in its database); it
  starts again after 40;
- then, while H98's clerk registers the 50, H98's exchange dies once more (a registration cut
  off between the incoming document and the inbox item) and comes back.

A package cut off in the middle of a delivery pass waits out its lease (120 s), and an arrival
cut off before its ack the axis's ack wait (60 s): the waits below allow for both. The checks
are made once nothing is left on the way: both inboxes on the axis empty and settled, no
transmission pending on either side, so that no late copy can come after them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.conftest import A, B
from tests.e2e.support import Gateway, eventually
from tests.e2e.test_outgoing import draft, issue
from tests.e2e.test_signing import auth, letter
from vanban.launcher.infra.process import group_members
from vanban.launcher.platform import AgencyProcesses, Platform
from vanban.platform.axis_names import INBOX_CONSUMER, inbox_stream

logger = logging.getLogger(__name__)

N = 50
# How long the packages and statuses may take after the last kill: a lease (120 s) or an ack
# wait (60 s) to wait out, then the backoff of a send (short here: the axis is down seconds).
SETTLE = 420.0
# Tokens are good for 15 minutes; they are taken again well before.
TOKEN_AGE = 600.0
# Answers of a gateway whose service behind it is down or starting: asked again.
UNAVAILABLE = (502, 503, 504)


class Tokens:
    """Each user's token, signed in once and again before it expires."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._tokens: dict[str, tuple[str, float]] = {}

    def __call__(self, username: str) -> str:
        token, at = self._tokens.get(username, ("", -TOKEN_AGE))
        if time.monotonic() - at >= TOKEN_AGE:
            token = self.gateway.token(username)
            self._tokens[username] = (token, time.monotonic())
        return token


@dataclass
class Victim:
    """A process killed -9 (its whole process group, as the launcher tracks it) and started
    again where its clients expect it."""

    name: str
    pgid: Callable[[], int | None]
    running: Callable[[], bool]
    # What the launcher stops it with: here it only reaps the dead leader.
    reap: Callable[[], object]
    start: Callable[[], None]
    kills: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def kill(self) -> None:
        with self._lock:
            pgid = self.pgid()
            assert pgid is not None and self.running(), f"{self.name} is not running"
            os.killpg(pgid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while group_members(pgid):
                assert time.monotonic() < deadline, f"{self.name} survived SIGKILL"
                time.sleep(0.02)
            self.reap()
            self.kills += 1
        logger.info("%s killed -9", self.name)

    def restart(self) -> None:
        with self._lock:
            started = time.monotonic()
            self.start()
        logger.info("%s started again in %.1f s", self.name, time.monotonic() - started)


def exchange_of(agency: AgencyProcesses) -> Victim:
    return Victim(
        name=f"{agency.spec.code} exchange",
        pgid=lambda: agency.process("exchange").pid,
        running=lambda: agency.process("exchange").is_running(),
        reap=lambda: agency.stop_service("exchange"),
        start=lambda: agency.start_service("exchange"),
    )


def axis_of(platform: Platform) -> Victim:
    axis = platform.axis
    return Victim(
        name="axis",
        pgid=lambda: axis.pid,
        running=axis.is_running,
        reap=axis.stop,
        start=axis.start,
    )


@pytest.fixture
def victims(two: Platform) -> Iterator[tuple[Victim, Victim, Victim]]:
    """H99's exchange, the axis, H98's exchange: each running again afterwards, whatever
    happened (the platform is the session's)."""
    sender, axis, receiver = (
        exchange_of(two.agencies[0]),
        axis_of(two),
        exchange_of(two.agencies[1]),
    )
    try:
        yield sender, axis, receiver
    finally:
        failed = []
        for victim in (axis, sender, receiver):
            try:
                if not victim.running():
                    victim.restart()
            except Exception:
                logger.exception("%s could not be started again", victim.name)
                failed.append(victim.name)
        assert not failed, f"not running again: {failed}"


def retried(call: Callable[[], httpx.Response], *, timeout: float = 180.0) -> httpx.Response:
    """`call` until the service behind the gateway answers (it may be down or starting)."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        try:
            answer = call()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        else:
            if answer.status_code not in UNAVAILABLE or time.monotonic() > deadline:
                return answer
        time.sleep(delay)
        delay = min(delay * 2, 3.0)


def send_one(sender: Gateway, tokens: Tokens, leader_id: str, subject: str) -> dict[str, Any]:
    """test_exchange's `send_document`, with the tokens kept: drafted for H98, submitted to the
    leader who signs, issued by the clerk."""
    specialist = tokens("chuyenvien")
    created = draft(
        sender,
        specialist,
        letter(subject),
        subject=subject,
        recipients=[{"organ_id": B, "organ_name": "Ủy ban nhân dân tỉnh Thử nghiệm"}],
    )
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    submitted = sender.http.post(
        f"/v1/outgoing-documents/{document_id}/submit",
        headers=auth(specialist),
        json={"signer_id": leader_id},
    )
    assert submitted.status_code == 200, submitted.text
    signed = sender.http.post(
        f"/v1/outgoing-documents/{document_id}/sign", headers=auth(tokens("lanhdao"))
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["approval"]["state"] == "approved", signed.text
    issued = issue(sender, tokens("vanthu"), document_id)
    assert issued.status_code == 200, issued.text
    document: dict[str, Any] = issued.json()
    return document


def every(gateway: Gateway, token: str, path: str) -> list[dict[str, Any]]:
    """Every item of a paged list, 100 a page."""
    items: list[dict[str, Any]] = []
    page = ""
    while True:
        params: dict[str, Any] = {"page_size": 100, **({"page_token": page} if page else {})}
        answer = retried(
            functools.partial(gateway.http.get, path, params=params, headers=auth(token))
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items.extend(body["items"])
        page = body.get("next_page_token") or ""
        if not page:
            return items


def deliveries(sender: Gateway, token: str, document_id: str) -> list[dict[str, Any]]:
    answer = retried(
        lambda: sender.http.get(
            f"/v1/outgoing-documents/{document_id}/deliveries", headers=auth(token)
        )
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["deliveries"]
    return found


def nothing_on_the_way(platform: Platform) -> bool:
    """Both inboxes on the axis empty and settled (nothing to deliver, nothing unacked), and
    no transmission pending in either exchange's database (read only)."""

    async def check() -> bool:
        connection = await nats.connect(platform.axis.url)
        try:
            js = connection.jetstream()
            for code in (A, B):
                info = await js.consumer_info(inbox_stream(code), INBOX_CONSUMER)
                if info.num_pending or info.num_ack_pending:
                    return False
        finally:
            await connection.close()
        for agency in platform.agencies:
            engine = create_async_engine(platform.postgres.dsn(agency.database_name("exchange")))
            try:
                async with engine.connect() as db:
                    pending = await db.scalar(
                        text("select count(*) from transmissions where state <> 'acknowledged'")
                    )
            finally:
                await engine.dispose()
            if pending:
                return False
        return True

    return asyncio.run(check())


@pytest.mark.timeout(1800)
def test_kill_9_of_either_exchange_and_the_axis_loses_and_doubles_nothing(
    two: Platform, victims: tuple[Victim, Victim, Victim]
) -> None:
    sender_exchange, axis, receiver_exchange = victims
    sender, receiver = Gateway(two.agencies[0].gateway_url), Gateway(two.agencies[1].gateway_url)
    at_sender, at_receiver = Tokens(sender), Tokens(receiver)
    leader_id = sender.http.get("/v1/me", headers=auth(at_sender("lanhdao"))).json()["id"]
    inbox_before = {i["id"] for i in every(receiver, at_receiver("vanthu"), "/v1/exchange/inbox")}
    incoming_before = {
        d["id"] for d in every(receiver, at_receiver("vanthu"), "/v1/incoming-documents")
    }
    began = time.monotonic()

    def arrived() -> list[dict[str, Any]]:
        """The inbox items that came since the test began."""
        items = every(receiver, at_receiver("vanthu"), "/v1/exchange/inbox")
        return [item for item in items if item["id"] not in inbox_before]

    def reached(identifiers: set[str]) -> int:
        return len(identifiers & {i["document_id"] for i in arrived()})

    # 1. Fifty documents issued one after another; the three processes killed as they go.
    documents: list[dict[str, Any]] = []
    for index in range(N):
        if index == 10:
            sender_exchange.kill()
        if index == 25:
            sender_exchange.restart()
            backlog = {d["identifier"] for d in documents[10:]}
            first = eventually(functools.partial(reached, backlog), timeout=120)
            assert first, "none of the documents issued while H99's exchange was down left it"
            axis.kill()
            logger.info("the axis died as %d of those %d had reached H98", first, len(backlog))
            time.sleep(3)
            axis.restart()
        if index == 32:
            receiver_exchange.kill()
        if index == 40:
            receiver_exchange.restart()
        documents.append(send_one(sender, at_sender, leader_id, f"Van ban ben bi so {index + 1}"))
    logger.info("%d documents issued in %.0f s", N, time.monotonic() - began)
    identifiers = {d["identifier"] for d in documents}
    assert len(identifiers) == N

    # 2. All fifty in H98's inbox.
    def all_arrived() -> list[dict[str, Any]] | None:
        items = arrived()
        return items if {i["document_id"] for i in items} >= identifiers else None

    items = eventually(all_arrived, timeout=SETTLE, interval=2.0)
    if items is None:
        missing = identifiers - {i["document_id"] for i in arrived()}
        pytest.fail(f"{len(missing)} of {N} never reached H98's inbox: {sorted(missing)}")
    logger.info("all in H98's inbox after %.0f s", time.monotonic() - began)

    # 3. H98's clerk registers each; its exchange is killed in the middle of it.
    assert Counter(i["state"] for i in items) == {"received": N}, Counter(
        (i["document_id"], i["state"]) for i in items
    )

    def kill_and_restart() -> None:
        time.sleep(0.3)  # within a registration rather than between two
        receiver_exchange.kill()
        receiver_exchange.restart()

    chaos = threading.Thread(target=kill_and_restart, daemon=True)
    registered: dict[str, str] = {}
    try:
        for index, item in enumerate(items):
            if index == N // 2:
                chaos.start()
            path = f"/v1/exchange/inbox/{item['id']}/register"

            def register(path: str = path) -> httpx.Response:
                return receiver.http.post(path, headers=auth(at_receiver("vanthu")), json={})

            answer = retried(register)
            assert answer.status_code == 200, answer.text
            registered[item["id"]] = answer.json()["document"]["id"]
    finally:
        if chaos.is_alive():
            chaos.join(timeout=180)
    assert receiver_exchange.kills == 2
    logger.info("registered after %.0f s", time.monotonic() - began)

    # 4. H99 hears 03 for each; then nothing is left on the way anywhere.
    def statuses_back() -> bool:
        token = at_sender("vanthu")
        return all(
            any(
                s["code"] == "03"
                for found in deliveries(sender, token, d["id"])
                for s in found["statuses"]
            )
            for d in documents
        )

    assert eventually(statuses_back, timeout=SETTLE, interval=2.0), "some 03 never came back"
    assert eventually(lambda: nothing_on_the_way(two), timeout=SETTLE, interval=2.0), (
        "packages or statuses still on the way (on the axis or pending in a database)"
    )
    logger.info("everything settled after %.0f s", time.monotonic() - began)

    # 5. At H99: one delivery per document, acknowledged once, with 01 and 03 once each.
    token = at_sender("vanthu")
    for document in documents:
        found = deliveries(sender, token, document["id"])
        assert len(found) == 1, (document["identifier"], found)
        assert found[0]["recipient"]["organ_id"] == B
        assert found[0]["transport_state"] == "acknowledged", (document["identifier"], found)
        assert [s["code"] for s in found[0]["statuses"]] == ["01", "03"], (
            document["identifier"],
            found[0]["statuses"],
        )

    # 6. At H98: one inbox item per document, registered, and nothing else arrived (no
    # duplicate, nothing refused); one incoming document per số/ký hiệu from H99, no other.
    items = arrived()
    assert Counter(i["document_id"] for i in items) == Counter(identifiers), Counter(
        (i["document_id"], i["state"], i.get("reason")) for i in items
    )
    assert Counter(i["state"] for i in items) == {"registered": N}
    assert {i["sender"]["organ_id"] for i in items} == {A}
    incoming = [
        d
        for d in every(receiver, at_receiver("vanthu"), "/v1/incoming-documents")
        if d["id"] not in incoming_before
    ]
    numbers = Counter((d["issuer_code"], d["code_number"], d["code_notation"]) for d in incoming)
    expected = Counter((A, d["code_number"], d["code_notation"]) for d in documents)
    assert numbers == expected, (numbers - expected, expected - numbers)
    assert {i["incoming_document_id"] for i in items} == {d["id"] for d in incoming}
    assert set(registered.values()) == {d["id"] for d in incoming}
    logger.info("done after %.0f s", time.monotonic() - began)
