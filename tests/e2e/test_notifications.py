"""A clerk's notices reach an open browser stream live, survive a dropped connection by
Last-Event-ID, and are read one by one or all at once; all through the real gateway, notify,
documents, NATS and PostgreSQL of the demo platform."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse

from tests.e2e.support import Gateway, eventually, make_pdf
from tests.e2e.test_outgoing import draft
from tests.e2e.test_tasks import Agency

STREAM = "/v1/notifications/stream"
# A liveness bound, not a measurement: bench/notify.py measures how fast notices arrive.
LIVE_WITHIN = 10.0


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(client: httpx.AsyncClient, token: str, gateway: Gateway) -> str:
    from tests.e2e.support import make_pdf, metadata

    response = await client.post(
        "/v1/incoming-documents",
        headers=auth(token),
        files={"file": ("van-ban.pdf", make_pdf(), "application/pdf")},
        data={"metadata": json.dumps(metadata())},
    )
    assert response.status_code == 201, response.text
    document_id: str = response.json()["id"]
    return document_id


async def notices(
    events: AsyncIterator[ServerSentEvent],
) -> AsyncIterator[tuple[int, dict[str, Any]]]:
    """(sequence, notice) of each notification event, skipping the rest."""
    async for event in events:
        if event.event == "notification":
            yield int(event.id), json.loads(event.data)


async def until_about(
    stream: AsyncIterator[tuple[int, dict[str, Any]]], wanted: set[str], seen: list[tuple[int, str]]
) -> None:
    """Reads notices into `seen` (sequence, resource) until every id in `wanted` has come."""
    resources = {f"incoming-documents/{document_id}" for document_id in wanted}
    async for sequence, notice in stream:
        seen.append((sequence, notice["resource"]))
        if resources <= {resource for _, resource in seen}:
            return


async def test_an_open_stream_shows_a_registration_at_once(
    gateway: Gateway, clerk_token: str
) -> None:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as client:
        async with aconnect_sse(client, "GET", STREAM, headers=auth(clerk_token)) as source:
            assert source.response.status_code == 200
            assert source.response.headers["content-type"].startswith("text/event-stream")
            events = source.aiter_sse()
            first = await anext(events)
            assert first.event == "unread" and isinstance(json.loads(first.data)["unread"], int)
            document_id = await register(client, clerk_token, gateway)
            registered = time.monotonic()
            seen: list[tuple[int, str]] = []
            await asyncio.wait_for(until_about(notices(events), {document_id}, seen), LIVE_WITHIN)
            print(f"registration to notice on the stream: {time.monotonic() - registered:.3f} s")
    [(sequence, _)] = [item for item in seen if item[1].endswith(document_id)]
    assert sequence > 0


async def test_twenty_registrations_across_a_dropped_connection_arrive_once_each(
    gateway: Gateway, clerk_token: str
) -> None:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as client:
        registered: list[str] = []
        seen: list[tuple[int, str]] = []
        async with aconnect_sse(client, "GET", STREAM, headers=auth(clerk_token)) as source:
            stream = notices(source.aiter_sse())
            for _ in range(5):
                registered.append(await register(client, clerk_token, gateway))
            await asyncio.wait_for(until_about(stream, set(registered), seen), LIVE_WITHIN)
            # The connection drops here, with the browser holding the last id it saw.
        last_seen = seen[-1][0]
        # Registrations go on while nobody listens.
        for _ in range(15):
            registered.append(await register(client, clerk_token, gateway))
        async with aconnect_sse(
            client, "GET", STREAM, headers={**auth(clerk_token), "Last-Event-ID": str(last_seen)}
        ) as source:
            await asyncio.wait_for(
                until_about(notices(source.aiter_sse()), set(registered), seen), LIVE_WITHIN * 3
            )
    ours = [
        (sequence, resource)
        for sequence, resource in seen
        if resource.removeprefix("incoming-documents/") in registered
    ]
    assert sorted(resource for _, resource in ours) == sorted(
        f"incoming-documents/{document_id}" for document_id in registered
    )
    sequences = [sequence for sequence, _ in seen]
    # Nothing twice, in the order they were recorded, across the reconnect.
    assert sequences == sorted(set(sequences))
    # In the order they were registered, too: one clerk's notices of one registrar.
    assert [resource for _, resource in ours] == [
        f"incoming-documents/{document_id}" for document_id in registered
    ]


def test_notices_are_read_one_by_one_or_all_up_to_what_was_seen(
    gateway: Gateway, clerk_token: str
) -> None:
    document_ids = [gateway.register(clerk_token).json()["id"] for _ in range(3)]

    def mine() -> list[dict[str, Any]]:
        wanted = {f"incoming-documents/{d}" for d in document_ids}
        return [n for n in gateway.notifications(clerk_token) if n["resource"] in wanted]

    ours = eventually(lambda: len(mine()) == 3 and mine())
    ours.sort(key=lambda n: n["sequence"])
    before = gateway.http.get("/v1/notifications/unread-count", headers=auth(clerk_token)).json()
    assert before["latest_sequence"] >= ours[-1]["sequence"] and before["unread"] >= 3

    read = gateway.http.post(f"/v1/notifications/{ours[0]['id']}/read", headers=auth(clerk_token))
    assert read.status_code == 200 and read.json()["read"] is True
    again = gateway.http.post(f"/v1/notifications/{ours[0]['id']}/read", headers=auth(clerk_token))
    assert again.status_code == 200
    after_one = gateway.http.get("/v1/notifications/unread-count", headers=auth(clerk_token))
    assert after_one.json()["unread"] == before["unread"] - 1

    # Someone else cannot touch the clerk's notice, nor learn that it exists.
    other = gateway.token("chuyenvien")
    refused = gateway.http.post(f"/v1/notifications/{ours[1]['id']}/read", headers=auth(other))
    assert refused.status_code == 404 and refused.json()["code"] == "NOTIFICATION_NOT_FOUND"

    # Read all up to the second: the third stays unread.
    marked = gateway.http.post(
        "/v1/notifications/read-all",
        headers=auth(clerk_token),
        json={"up_to_sequence": ours[1]["sequence"]},
    )
    assert marked.status_code == 200 and marked.json()["marked"] >= 1
    state = {n["id"]: n["read"] for n in mine()}
    assert state == {ours[0]["id"]: True, ours[1]["id"]: True, ours[2]["id"]: False}
    everything = gateway.http.post("/v1/notifications/read-all", headers=auth(clerk_token))
    assert everything.status_code == 200
    assert (
        gateway.http.get("/v1/notifications/unread-count", headers=auth(clerk_token)).json()[
            "unread"
        ]
        == 0
    )


@pytest.mark.parametrize("last_event_id", ["abc", "-4", "1" * 19])
def test_a_stream_resumed_after_no_sequence_is_refused(
    gateway: Gateway, clerk_token: str, last_event_id: str
) -> None:
    response = gateway.http.get(
        STREAM, headers={**auth(clerk_token), "Last-Event-ID": last_event_id}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "INVALID_SEQUENCE"


def test_a_stream_needs_a_person(gateway: Gateway) -> None:
    anonymous = gateway.http.get(STREAM)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "TOKEN_MISSING"
    for path in ("/v1/notifications/read-all", "/v1/notifications/x/read"):
        assert gateway.http.post(path).status_code == 401


async def test_one_person_holds_only_a_few_streams_at_once(
    gateway: Gateway, clerk_token: str
) -> None:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as client:
        opened = []
        try:
            for _ in range(5):
                request = client.build_request("GET", STREAM, headers=auth(clerk_token))
                response = await client.send(request, stream=True)
                assert response.status_code == 200
                opened.append(response)
            sixth = await client.get(STREAM, headers=auth(clerk_token))
            assert sixth.status_code == 429 and sixth.json()["code"] == "TOO_MANY_STREAMS"
        finally:
            for response in opened:
                await response.aclose()
        # Closed streams are let go: a new one opens.
        await asyncio.sleep(0.5)
        async with aconnect_sse(client, "GET", STREAM, headers=auth(clerk_token)) as source:
            assert source.response.status_code == 200


def kinds_about(gateway: Gateway, token: str, resource_prefix: str) -> list[tuple[str, str]]:
    return [
        (n["kind"], n["title"])
        for n in gateway.notifications(token)
        if n["resource"].startswith(resource_prefix)
    ]


def test_the_handling_of_a_document_reaches_each_person_it_concerns(
    gateway: Gateway, clerk_token: str
) -> None:
    agency = Agency(gateway)
    units = agency.units
    document = gateway.register(clerk_token).json()["id"]
    deadline = (date.today() + timedelta(days=20)).isoformat()
    assigned = gateway.http.post(
        f"/v1/incoming-documents/{document}/assignment",
        headers=auth(gateway.token("lanhdao")),
        json={"lead_unit": units["L"], "coordinating_units": [units["C"]], "deadline": deadline},
    )
    assert assigned.status_code == 201, assigned.text
    [lead_task] = [
        t
        for t in gateway.http.get(
            "/v1/tasks?mine=true&state=assigned", headers=auth(agency.token("L-head"))
        ).json()["tasks"]
        if t["document_id"] == document
    ]

    day = date.fromisoformat(deadline).strftime("%d/%m/%Y")
    lead_notes = eventually(lambda: kinds_about(gateway, agency.token("L-head"), "tasks/"))
    assert lead_notes == [("task_assigned", "Văn bản được giao cho bạn (chủ trì)")]
    [note] = [
        n
        for n in gateway.notifications(agency.token("L-head"))
        if n["resource"].startswith("tasks/")
    ]
    assert note["resource"] == f"tasks/{lead_task['id']}"
    assert note["body"].startswith("Số đến ") and note["body"].endswith(f"hạn xử lý {day}")
    assert eventually(lambda: kinds_about(gateway, agency.token("C-head"), "tasks/")) == [
        ("task_assigned", "Văn bản được giao cho bạn (phối hợp)")
    ]
    # Nobody outside the assignment hears of it.
    assert kinds_about(gateway, agency.token("L-spec"), "tasks/") == []
    assert kinds_about(gateway, agency.token("D-head"), "tasks/") == []

    forwarded = gateway.http.post(
        f"/v1/tasks/{lead_task['id']}/forward",
        headers=auth(agency.token("L-head")),
        json={"to": [{"person_id": agency.id("L-spec")}], "role": "lead"},
    )
    assert forwarded.status_code == 201, forwarded.text
    [spec_task] = forwarded.json()["tasks"]
    assert eventually(lambda: kinds_about(gateway, agency.token("L-spec"), "tasks/")) == [
        ("task_forwarded", "Văn bản được chuyển cho bạn (chủ trì)")
    ]
    done = gateway.http.post(
        f"/v1/tasks/{spec_task['id']}/complete",
        headers=auth(agency.token("L-spec")),
        json={"result": "Đã dự thảo công văn trả lời"},
    )
    assert done.status_code == 200, done.text
    completed = eventually(
        lambda: [
            k
            for k in kinds_about(gateway, agency.token("L-head"), "tasks/")
            if k[0] == "task_completed"
        ]
    )
    assert completed == [("task_completed", "Văn bản đã được xử lý xong (chủ trì)")]


def test_a_draft_waiting_for_a_signature_and_its_return_reach_signer_and_drafter(
    gateway: Gateway,
) -> None:
    drafter = gateway.token("chuyenvien")
    leader = gateway.token("lanhdao")
    leader_id = gateway.http.get("/v1/me", headers=auth(leader)).json()["id"]
    created = draft(gateway, drafter, make_pdf("Du thao thong bao"))
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    resource = f"outgoing-documents/{document_id}"
    submitted = gateway.http.post(
        f"/v1/{resource}/submit", headers=auth(drafter), json={"signer_id": leader_id}
    )
    assert submitted.status_code == 200, submitted.text
    assert eventually(lambda: kinds_about(gateway, leader, resource)) == [
        ("signature_requested", "Dự thảo chờ bạn ký")
    ]
    returned = gateway.http.post(
        f"/v1/approvals/{submitted.json()['id']}/return",
        headers=auth(leader),
        json={"comment": "Bổ sung số liệu"},
    )
    assert returned.status_code == 200, returned.text
    [(kind, title)] = eventually(lambda: kinds_about(gateway, drafter, resource))
    assert (kind, title) == ("approval_decided", "Dự thảo bị trả lại")
    [note] = [n for n in gateway.notifications(drafter) if n["resource"] == resource]
    assert note["body"].endswith("ý kiến: Bổ sung số liệu")


async def test_a_new_clerk_resuming_from_nothing_gets_every_notice_from_the_first(
    gateway: Gateway, clerk_token: str
) -> None:
    admin = gateway.token("quantri")
    username = f"vt{uuid.uuid4().hex[:10]}"
    created = gateway.http.post(
        "/v1/people",
        headers=auth(admin),
        json={
            "username": username,
            "full_name": "Văn thư mới",
            "position_title": "Văn thư",
            "roles": ["clerk"],
            "unit_codes": ["VP"],
            "password": "mat-khau-van-thu-1",
            "password_must_change": False,
        },
    )
    assert created.status_code == 201, created.text
    newcomer = gateway.token(username, "mat-khau-van-thu-1")
    registered = [gateway.register(clerk_token).json()["id"] for _ in range(3)]
    eventually(lambda: len(gateway.notifications(newcomer)) >= 3)
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as client:
        async with aconnect_sse(
            client, "GET", STREAM, headers={**auth(newcomer), "Last-Event-ID": "0"}
        ) as source:
            seen: list[tuple[int, str]] = []
            await asyncio.wait_for(
                until_about(notices(source.aiter_sse()), set(registered), seen), LIVE_WITHIN
            )
    assert [sequence for sequence, _ in seen[:3]] == [1, 2, 3]
    assert [resource for _, resource in seen[:3]] == [
        f"incoming-documents/{document_id}" for document_id in registered
    ]


def test_a_person_chooses_how_notices_reach_them_by_e_mail(gateway: Gateway) -> None:
    token = gateway.token("chuyenvien")
    path = "/v1/notifications/preferences"
    defaults = gateway.http.get(path, headers=auth(token)).json()
    assert defaults["email"] == {} and defaults["digest_time"] == "17:00"
    assert defaults["effective_email"]["task_assigned"] == "each"
    assert defaults["effective_email"]["incoming_registered"] == "digest"
    chosen = gateway.http.put(
        path,
        headers=auth(token),
        json={
            "email": {"incoming_registered": "off"},
            "quiet_start": "21:00",
            "quiet_end": "06:30",
            "digest_time": "17:30",
        },
    )
    assert chosen.status_code == 200, chosen.text
    again = gateway.http.get(path, headers=auth(token)).json()
    assert again["effective_email"]["incoming_registered"] == "off"
    assert (again["quiet_start"], again["quiet_end"], again["digest_time"]) == (
        "21:00",
        "06:30",
        "17:30",
    )
    for body, code in (
        ({"email": {"no_such_kind": "each"}}, "INVALID_PREFERENCES"),
        ({"quiet_start": "21:00"}, "INVALID_PREFERENCES"),
        ({"email": {"task_assigned": "sometimes"}}, "VALIDATION_FAILED"),
        ({"digest_time": "25:00"}, "VALIDATION_FAILED"),
    ):
        refused = gateway.http.put(path, headers=auth(token), json=body)
        assert refused.json()["code"] == code, refused.text
    # Nothing of the refused ones was kept.
    assert gateway.http.get(path, headers=auth(token)).json() == again
    assert gateway.http.put(path, headers=auth(token), json={}).status_code == 200


def test_only_administrators_see_the_e_mails_of_notices(gateway: Gateway, clerk_token: str) -> None:
    admin = gateway.token("quantri")
    listed = gateway.http.get("/v1/email-deliveries?state=failed", headers=auth(admin))
    assert listed.status_code == 200 and isinstance(listed.json()["items"], list)
    refused = gateway.http.get("/v1/email-deliveries", headers=auth(clerk_token))
    assert refused.status_code == 403
    bad = gateway.http.get("/v1/email-deliveries?state=lost", headers=auth(admin))
    assert bad.status_code == 422
