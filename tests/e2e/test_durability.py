"""Events survive a stopped consumer and a restarted NATS: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import nats

from tests.e2e.support import Gateway, eventually, stored_events
from vanban.contracts.documents.v1 import events_pb2
from vanban.launcher.platform import AgencyProcesses, Platform

REGISTERED = "vanban.documents.incoming.registered"
# After the consumer is idle, how long to keep watching for a late copy: several rounds of
# the outbox relay's poll (1 s) and the consumers' fetch (1 s) and the first redelivery delays.
QUIET_SECONDS = 10


def notified(gateway: Gateway, token: str, ids: list[str]) -> Counter[str]:
    """How many notifications the clerk holds for each of `ids`."""
    wanted = set(ids)
    counts: Counter[str] = Counter()
    for note in gateway.notifications(token):
        document_id = note["resource"].removeprefix("incoming-documents/")
        if document_id in wanted:
            counts[document_id] += 1
    return counts


def notify_is_idle(agency: AgencyProcesses) -> bool:
    """notify's consumer has every message delivered and acknowledged (nothing can come back)."""

    async def check() -> bool:
        connection = await nats.connect(agency.nats.url)
        try:
            info = await connection.jetstream().consumer_info(
                "VANBAN_DOCUMENTS", "notify-incoming-registered"
            )
            return info.num_pending == 0 and info.num_ack_pending == 0
        finally:
            await connection.close()

    return asyncio.run(check())


def test_registrations_made_while_notify_is_down_are_each_notified_exactly_once(
    platform: Platform, gateway: Gateway, clerk_token: str
) -> None:
    agency = platform.agencies[0]
    assert not agency.stop_service("notify"), "notify had to be killed"
    try:
        ids = []
        for index in range(50):
            if index == 25:
                assert not platform.nats.restart(), "NATS had to be killed"
            response = gateway.register(clerk_token)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    finally:
        agency.start_service("notify")

    assert eventually(lambda: len(notified(gateway, clerk_token, ids)) == len(ids), timeout=90), (
        f"{len(ids) - len(notified(gateway, clerk_token, ids))} of {len(ids)} never notified"
    )
    assert eventually(lambda: notify_is_idle(agency), timeout=60)
    # Then nothing more may arrive: a copy would show up as a second notification.
    deadline = time.monotonic() + QUIET_SECONDS
    while time.monotonic() < deadline:
        assert notified(gateway, clerk_token, ids) == dict.fromkeys(ids, 1)
        time.sleep(1)

    # Published once each, too: the relay's retries across the NATS restart were de-duplicated.
    published = Counter(
        events_pb2.IncomingDocumentRegistered.FromString(event.data).document.id
        for event in stored_events(agency.nats.url)
        if event.subject == REGISTERED
    )
    assert {document_id: published[document_id] for document_id in ids} == dict.fromkeys(ids, 1)
