"""Events survive a stopped consumer and a restarted NATS: nothing lost, nothing doubled."""

from __future__ import annotations

from tests.e2e.support import Gateway, eventually
from vanban.launcher.platform import Platform


def test_registrations_made_while_notify_is_down_all_notify_once_it_is_back(
    platform: Platform, gateway: Gateway, clerk_token: str
) -> None:
    agency = platform.agencies[0]
    before = len(gateway.notifications(clerk_token))
    agency.stop_service("notify")
    try:
        ids = []
        for index in range(50):
            if index == 25:
                platform.nats.restart()
            response = gateway.register(clerk_token)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    finally:
        agency.start_service("notify")

    def all_arrived() -> bool:
        return len(gateway.notifications(clerk_token)) >= before + 50

    eventually(all_arrived, timeout=90)
    notes = gateway.notifications(clerk_token)
    assert len(notes) == before + 50
    notified = [n["resource"].removeprefix("incoming-documents/") for n in notes]
    assert sorted(set(notified) & set(ids)) == sorted(ids)
