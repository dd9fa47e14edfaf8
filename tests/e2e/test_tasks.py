"""Handling an assigned document through the gateway (issue 9, ADR 0010): one opinion every
assignee reads, forwarding down one's own units, never twice, within the deadline; only the
holder completes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.support import Gateway, eventually, make_pdf
from tests.e2e.test_outgoing import draft

PASSWORD = "mat-khau-nhiem-vu-1"
OPINION = "Giao phòng chủ trì tham mưu văn bản trả lời; hai phòng phối hợp. Báo cáo trước hạn."


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Agency:
    """Three units under VP (one with a unit below it), a head and a specialist in each."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.admin = auth(gateway.token("quantri"))
        tag = uuid.uuid4().hex[:4].upper()
        self.units = {name: f"T{tag}{name}" for name in ("L", "C", "D", "L1")}
        self.people: dict[str, dict[str, Any]] = {}
        for name in ("L", "C", "D"):
            self._unit(self.units[name], "VP")
        self._unit(self.units["L1"], self.units["L"])
        for name, unit in self.units.items():
            head = self._person(f"{name}-head", unit, "unit_head")
            self._person(f"{name}-spec", unit, "specialist")
            changed = gateway.http.patch(
                f"/v1/units/{unit}", headers=self.admin, json={"head_person_id": head["id"]}
            )
            assert changed.status_code == 200, changed.text

    def _unit(self, code: str, parent: str) -> None:
        created = self.gateway.http.post(
            "/v1/units",
            headers=self.admin,
            json={"code": code, "name": f"Phòng thử {code}", "parent_code": parent},
        )
        assert created.status_code == 201, created.text

    def _person(self, key: str, unit: str, role: str) -> dict[str, Any]:
        username = f"nv{uuid.uuid4().hex[:10]}"
        created = self.gateway.http.post(
            "/v1/people",
            headers=self.admin,
            json={
                "username": username,
                "full_name": f"Người thử {key}",
                "position_title": "Cán bộ",
                "roles": [role],
                "unit_codes": [unit],
                "password": PASSWORD,
                "password_must_change": False,
            },
        )
        assert created.status_code == 201, created.text
        person = created.json() | {"username": username}
        self.people[key] = person
        return person

    def token(self, key: str) -> str:
        return self.gateway.token(self.people[key]["username"], PASSWORD)

    def id(self, key: str) -> str:
        return str(self.people[key]["id"])


@pytest.fixture(scope="module")
def agency(gateway: Gateway) -> Agency:
    return Agency(gateway)


def call(
    gateway: Gateway, token: str, method: str, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return gateway.http.request(method, path, headers=auth(token), json=body)


def test_one_opinion_down_the_units_never_twice_and_only_the_holder_completes(
    gateway: Gateway, clerk_token: str, agency: Agency
) -> None:
    units = agency.units
    document = gateway.register(clerk_token).json()["id"]
    deadline = (date.today() + timedelta(days=20)).isoformat()
    assigned = call(
        gateway,
        gateway.token("lanhdao"),
        "POST",
        f"/v1/incoming-documents/{document}/assignment",
        {
            "lead_unit": units["L"],
            "coordinating_units": [units["C"], units["D"]],
            "opinion": OPINION,
            "deadline": deadline,
        },
    )
    assert assigned.status_code == 201, assigned.text

    def mine(key: str) -> list[dict[str, Any]]:
        answer = call(gateway, agency.token(key), "GET", "/v1/tasks?mine=true&state=assigned")
        assert answer.status_code == 200, answer.text
        return [t for t in answer.json()["tasks"] if t["document_id"] == document]

    # Each unit's head finds the unit's task, with its role and the leader's deadline.
    roots = {}
    for name, role in (("L", "lead"), ("C", "coordinating"), ("D", "coordinating")):
        [task] = mine(f"{name}-head")
        assert (task["holder_unit"], task["role"], task["deadline"]) == (
            units[name],
            role,
            deadline,
        )
        assert task["state"] == "assigned" and task["status_code"] == "04"
        roots[name] = task
    assert mine("L-spec") == []

    # The heads forward to their specialists; the lead's head also to the unit below, with an
    # earlier sub-deadline.
    sub_deadline = (date.today() + timedelta(days=10)).isoformat()
    forwarded = call(
        gateway,
        agency.token("L-head"),
        "POST",
        f"/v1/tasks/{roots['L']['id']}/forward",
        {
            "to": [
                {"person_id": agency.id("L-spec")},
                {"unit": units["L1"], "role": "coordinating"},
            ],
            "role": "lead",
            "note": "Đồng chí chủ trì dự thảo",
            "deadline": sub_deadline,
        },
    )
    assert forwarded.status_code == 201, forwarded.text
    assert [(t["holder_person"], t["holder_unit"]) for t in forwarded.json()["tasks"]] == [
        (agency.id("L-spec"), None),
        (None, units["L1"]),
    ]
    for name in ("C", "D"):
        handed = call(
            gateway,
            agency.token(f"{name}-head"),
            "POST",
            f"/v1/tasks/{roots[name]['id']}/forward",
            {"to": [{"person_id": agency.id(f"{name}-spec")}], "role": "lead"},
        )
        assert handed.status_code == 201, handed.text

    # Every head and every specialist reads the same opinion and the whole tree.
    views = []
    for key in ("L-head", "C-head", "D-head", "L-spec", "C-spec", "D-spec", "L1-head"):
        [task] = mine(key)
        view = call(gateway, agency.token(key), "GET", f"/v1/tasks/{task['id']}")
        assert view.status_code == 200, view.text
        views.append((view.json()["opinion"], len(view.json()["tree"])))
    assert views == [(OPINION, 7)] * 7
    [lead_spec_task] = mine("L-spec")
    assert lead_spec_task["deadline"] == sub_deadline and lead_spec_task["note"].startswith("Đồng")
    # Someone outside the assignment does not find it.
    stranger = call(
        gateway, gateway.token("chuyenvien"), "GET", f"/v1/tasks/{lead_spec_task['id']}"
    )
    assert (stranger.status_code, stranger.json()["code"]) == (404, "TASK_NOT_FOUND")

    # A coordinating specialist cannot complete the lead's task (nor the lead unit's).
    for task_id in (lead_spec_task["id"], roots["L"]["id"]):
        refused = call(
            gateway,
            agency.token("C-spec"),
            "POST",
            f"/v1/tasks/{task_id}/complete",
            {"result": "Xong"},
        )
        # They may read it (they hold a task of the assignment), but not act on it.
        assert (refused.status_code, refused.json()["code"]) == (403, "TASK_NOT_HELD")
    # Forwarding outside one's subtree, or past the task's deadline, is refused naming the field;
    # sending it again to whoever has it is refused too.
    outside = call(
        gateway,
        agency.token("C-head"),
        "POST",
        f"/v1/tasks/{roots['C']['id']}/forward",
        {"to": [{"person_id": agency.id("D-spec")}], "role": "informed"},
    )
    assert (outside.status_code, outside.json()["code"]) == (400, "INVALID_FORWARD")
    assert [e["field"] for e in outside.json()["errors"]] == ["to[0]"]
    late = call(
        gateway,
        agency.token("L1-head"),
        "POST",
        f"/v1/tasks/{mine('L1-head')[0]['id']}/forward",
        {
            "to": [{"person_id": agency.id("L1-spec")}],
            "role": "lead",
            "deadline": (date.today() + timedelta(days=15)).isoformat(),
        },
    )
    assert (late.status_code, late.json()["code"]) == (400, "INVALID_FORWARD")
    assert [e["field"] for e in late.json()["errors"]] == ["deadline"]
    again = call(
        gateway,
        agency.token("L-head"),
        "POST",
        f"/v1/tasks/{roots['L']['id']}/forward",
        {"to": [{"person_id": agency.id("L-spec")}], "role": "coordinating"},
    )
    assert (again.status_code, again.json()["code"]) == (409, "ALREADY_ASSIGNED")

    # The lead specialist reports progress and completes; the lead unit's task then waits only
    # for the unit below, which the head recalls.
    progressed = call(
        gateway,
        agency.token("L-spec"),
        "POST",
        f"/v1/tasks/{lead_spec_task['id']}/progress",
        {"note": "Đang dự thảo"},
    )
    assert progressed.json()["status_code"] == "05"
    done = call(
        gateway,
        agency.token("L-spec"),
        "POST",
        f"/v1/tasks/{lead_spec_task['id']}/complete",
        {"result": "Đã dự thảo công văn trả lời"},
    )
    assert (done.status_code, done.json()["status_code"]) == (200, "06"), done.text
    waiting = call(
        gateway,
        agency.token("L-head"),
        "POST",
        f"/v1/tasks/{roots['L']['id']}/complete",
        {"result": "Xong"},
    )
    assert (waiting.status_code, waiting.json()["code"]) == (400, "OPEN_SUBTASKS")
    [unit_below] = [t for t in forwarded.json()["tasks"] if t["holder_unit"] == units["L1"]]
    recalled = call(
        gateway, agency.token("L-head"), "POST", f"/v1/tasks/{unit_below['id']}/recall", {}
    )
    assert [t["state"] for t in recalled.json()["tasks"]] == ["recalled"]
    completed = call(
        gateway,
        agency.token("L-head"),
        "POST",
        f"/v1/tasks/{roots['L']['id']}/complete",
        {"result": "Đã trình lãnh đạo văn bản trả lời"},
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["closed_by"] == agency.id("L-head")


def test_the_working_calendar_is_kept_by_an_administrator(gateway: Gateway) -> None:
    tet = [
        *(
            {"day": f"2025-01-{d}", "working": False, "name": "Tết Nguyên đán"}
            for d in range(27, 32)
        ),
        {"day": "2025-02-15", "working": True, "name": "Làm bù"},
    ]
    admin = gateway.token("quantri")
    before = call(gateway, admin, "GET", "/v1/calendar/2025")
    assert before.status_code == 200, before.text
    put = call(gateway, admin, "PUT", "/v1/calendar/2025", {"days": tet})
    assert put.status_code == 200, put.text
    read = call(gateway, gateway.token("chuyenvien"), "GET", "/v1/calendar/2025").json()
    assert read["entered"] and [d["day"] for d in read["days"]] == [d["day"] for d in tet]
    refused = call(gateway, gateway.token("truongphong"), "PUT", "/v1/calendar/2025", {"days": []})
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_REQUIRED")
    # A weekday "worked" is no exception: refused naming the day, nothing changed.
    slip = call(
        gateway,
        admin,
        "PUT",
        "/v1/calendar/2025",
        {"days": [{"day": "2025-03-14", "working": True, "name": "Thứ Sáu"}]},
    )
    assert (slip.status_code, slip.json()["code"]) == (400, "INVALID_CALENDAR")
    assert [e["field"] for e in slip.json()["errors"]] == ["days[0].working"]
    assert len(call(gateway, admin, "GET", "/v1/calendar/2025").json()["days"]) == len(tet)


def test_statistics_count_what_was_assigned_and_forwarded_as_far_as_each_may_see(
    gateway: Gateway, clerk_token: str, agency: Agency
) -> None:
    leader = gateway.token("lanhdao")
    units = agency.units

    def stats(token: str, **query: str) -> httpx.Response:
        return gateway.http.get("/v1/stats", headers=auth(token), params=query)

    def unit_row(answer: httpx.Response, code: str) -> dict[str, Any]:
        rows = [u for u in answer.json()["units"] if u["unit"] == code]
        return rows[0] if rows else {"received": 0, "in_progress": 0, "completed_on_time": 0}

    before = stats(leader)
    assert before.status_code == 200, before.text
    document = gateway.register(clerk_token).json()["id"]
    deadline = (date.today() + timedelta(days=5)).isoformat()
    assigned = call(
        gateway,
        leader,
        "POST",
        f"/v1/incoming-documents/{document}/assignment",
        {"lead_unit": units["D"], "opinion": OPINION, "deadline": deadline},
    )
    assert assigned.status_code == 201, assigned.text
    [root] = [
        t
        for t in call(gateway, agency.token("D-head"), "GET", "/v1/tasks?mine=true").json()["tasks"]
        if t["document_id"] == document
    ]
    forwarded = call(
        gateway,
        agency.token("D-head"),
        "POST",
        f"/v1/tasks/{root['id']}/forward",
        {"to": [{"person_id": agency.id("D-spec")}]},
    )
    assert forwarded.status_code == 201, forwarded.text
    [spec_task] = forwarded.json()["tasks"]
    done = call(
        gateway,
        agency.token("D-spec"),
        "POST",
        f"/v1/tasks/{spec_task['id']}/complete",
        {"result": "Đã xong"},
    )
    assert done.status_code == 200, done.text

    after = stats(leader)
    body = after.json()
    assert body["from"] == date.fromisoformat(body["today"]).replace(day=1).isoformat()
    # One more document for the agency, in progress within its deadline; its unit and its
    # specialist count theirs.
    assert body["agency"]["received"] == before.json()["agency"]["received"] + 1
    assert body["agency"]["in_progress"] == before.json()["agency"]["in_progress"] + 1
    assert unit_row(after, units["D"])["received"] == unit_row(before, units["D"])["received"] + 1
    spec = [p for p in body["people"] if p["person_id"] == agency.id("D-spec")]
    assert spec and spec[0]["completed_on_time"] == 1

    # The unit's head sees their unit, not another's nor the agency; a specialist only themself.
    head = stats(agency.token("D-head"), unit=units["D"])
    assert head.status_code == 200 and head.json()["agency"] is None
    assert [u["unit"] for u in head.json()["units"]] == [units["D"]]
    other = stats(agency.token("D-head"), unit=units["C"])
    assert other.status_code == 403 and other.json()["code"] == "STATS_NOT_ALLOWED"
    own = stats(agency.token("D-spec")).json()
    assert own["agency"] is None and own["units"] == []
    assert [p["person_id"] for p in own["people"]] == [agency.id("D-spec")]
    bad = stats(leader, **{"from": "2026-12-01", "to": "2026-11-01"})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_STATS_QUERY"
    # Nothing is overdue yet: deadlines are days ahead.
    overdue = gateway.http.get("/v1/stats/overdue", headers=auth(leader))
    assert overdue.status_code == 200 and document not in [
        t["document_id"] for t in overdue.json()["tasks"]
    ]
    assert gateway.http.get("/v1/stats").status_code == 401


def working_days_after(gateway: Gateway, token: str, start: date, count: int) -> date:
    """The `count`th working day after `start` on the agency's calendar, read from the API."""
    exceptions: dict[str, bool] = {}
    for year in (start.year, start.year + 1):
        answer = gateway.http.get(f"/v1/calendar/{year}", headers=auth(token))
        assert answer.status_code == 200, answer.text
        exceptions |= {d["day"]: d["working"] for d in answer.json()["days"]}
    day = start
    while count:
        day += timedelta(days=1)
        if exceptions.get(day.isoformat(), day.weekday() < 5):
            count -= 1
    return day


def test_people_are_assigned_in_working_days_and_whoever_gets_the_document_may_open_it(
    gateway: Gateway, clerk_token: str, agency: Agency
) -> None:
    leader = gateway.token("lanhdao")
    units = agency.units
    document = gateway.register(clerk_token).json()["id"]

    def opens(key: str) -> bool:
        answer = gateway.http.get(
            f"/v1/incoming-documents/{document}", headers=auth(agency.token(key))
        )
        assert answer.status_code in (200, 404), answer.text
        return answer.status_code == 200

    assert not opens("C-spec") and not opens("L1-head")
    assigned = call(
        gateway,
        leader,
        "POST",
        f"/v1/incoming-documents/{document}/assignment",
        {
            "lead_person": agency.id("C-spec"),
            "coordinating_units": [units["L"]],
            "informed_people": [agency.id("D-spec")],
            "opinion": OPINION,
            "deadline_working_days": 2,
        },
    )
    assert assigned.status_code == 201, assigned.text
    body = assigned.json()
    assert (body["lead_unit"], body["lead_person"]) == (None, agency.id("C-spec"))
    assert body["informed_people"] == [agency.id("D-spec")]
    # Two working days on the agency's calendar (weekends and holidays skipped).
    today = date.fromisoformat(stats_today(gateway, leader))
    assert body["deadline"] == working_days_after(gateway, leader, today, 2).isoformat()

    # The person who leads holds their own task, and may open the document.
    [task] = [
        t
        for t in call(gateway, agency.token("C-spec"), "GET", "/v1/tasks?mine=true").json()["tasks"]
        if t["document_id"] == document
    ]
    assert (task["holder_person"], task["role"]) == (agency.id("C-spec"), "lead")
    assert eventually(lambda: opens("C-spec") and opens("D-spec"))
    # A unit below the coordinating unit reads it once the task is forwarded there, not before.
    [unit_task] = [
        t
        for t in call(gateway, agency.token("L-head"), "GET", "/v1/tasks?mine=true").json()["tasks"]
        if t["document_id"] == document
    ]
    assert not opens("L1-head")
    forwarded = call(
        gateway,
        agency.token("L-head"),
        "POST",
        f"/v1/tasks/{unit_task['id']}/forward",
        {"to": [{"unit": units["L1"]}], "role": "coordinating"},
    )
    assert forwarded.status_code == 201, forwarded.text
    assert eventually(lambda: opens("L1-head"))

    # Both a lead unit and a lead person, or a date and working days: refused at the door.
    for wrong in (
        {"lead_unit": units["L"], "lead_person": agency.id("C-spec")},
        {"lead_unit": units["L"], "deadline": "2030-01-02", "deadline_working_days": 3},
    ):
        refused = call(
            gateway, leader, "POST", f"/v1/incoming-documents/{document}/assignment", wrong
        )
        assert refused.status_code == 422, refused.text


def stats_today(gateway: Gateway, token: str) -> str:
    """The agency's today, as the workflow counts it."""
    return str(gateway.http.get("/v1/stats", headers=auth(token)).json()["today"])


def test_a_handler_keeps_one_matters_documents_and_tasks_in_a_work_dossier(
    gateway: Gateway, clerk_token: str, agency: Agency
) -> None:
    leader = gateway.token("lanhdao")
    spec = agency.token("L-spec")
    mine = gateway.register(clerk_token).json()["id"]
    other = gateway.register(clerk_token).json()["id"]  # never assigned: not the specialist's
    assigned = call(
        gateway,
        leader,
        "POST",
        f"/v1/incoming-documents/{mine}/assignment",
        {"lead_person": agency.id("L-spec"), "opinion": OPINION},
    )
    assert assigned.status_code == 201, assigned.text
    [task] = [
        t
        for t in call(gateway, spec, "GET", "/v1/tasks?mine=true").json()["tasks"]
        if t["document_id"] == mine
    ]

    opened = call(gateway, spec, "POST", "/v1/work-dossiers", {"title": "Kế hoạch CCHC 2027"})
    assert opened.status_code == 201, opened.text
    dossier = opened.json()["id"]
    items = f"/v1/work-dossiers/{dossier}/items"

    def add(kind: str, ref: str) -> httpx.Response:
        return call(gateway, spec, "POST", items, {"kind": kind, "ref_id": ref})

    assert eventually(lambda: add("incoming", mine).status_code == 201)
    assert add("task", task["id"]).status_code == 201
    again = add("incoming", mine)
    assert again.status_code == 400 and again.json()["code"] == "ITEM_ALREADY_IN_DOSSIER"
    # What the owner may not open stays out, as if it did not exist.
    for kind, ref in (("incoming", other), ("task", str(uuid.uuid4())), ("outgoing", mine)):
        refused = add(kind, ref)
        assert refused.status_code == 404 and refused.json()["code"] == "ITEM_NOT_FOUND", kind

    read = call(gateway, spec, "GET", f"/v1/work-dossiers/{dossier}").json()
    assert [(i["kind"], i["ref_id"]) for i in read["items"]] == [
        ("incoming", mine),
        ("task", task["id"]),
    ]
    # The owner's and the leaders', nobody else's.
    assert call(gateway, leader, "GET", f"/v1/work-dossiers/{dossier}").status_code == 200
    stranger = call(gateway, agency.token("C-spec"), "GET", f"/v1/work-dossiers/{dossier}")
    assert stranger.status_code == 404
    assert (
        call(gateway, leader, "POST", items, {"kind": "incoming", "ref_id": mine}).status_code
        == 404
    )
    assert gateway.http.get(f"/v1/work-dossiers/{dossier}").status_code == 401

    removed = gateway.http.delete(f"{items}/task/{task['id']}", headers=auth(spec))
    assert removed.status_code == 204
    closed = call(gateway, spec, "POST", f"/v1/work-dossiers/{dossier}/close")
    assert closed.status_code == 200 and closed.json()["closed_at"]
    late = add("task", task["id"])
    assert late.status_code == 400 and late.json()["code"] == "WORK_DOSSIER_CLOSED"
    listed = call(gateway, spec, "GET", "/v1/work-dossiers").json()["dossiers"]
    assert dossier in [d["id"] for d in listed]


def test_a_task_completes_with_a_reply_only_when_the_handler_may_open_it(
    gateway: Gateway, clerk_token: str, agency: Agency
) -> None:
    spec = agency.token("L-spec")
    document = gateway.register(clerk_token).json()["id"]
    assigned = call(
        gateway,
        gateway.token("lanhdao"),
        "POST",
        f"/v1/incoming-documents/{document}/assignment",
        {"lead_person": agency.id("L-spec"), "opinion": OPINION},
    )
    assert assigned.status_code == 201, assigned.text
    [task] = [
        t
        for t in call(gateway, spec, "GET", "/v1/tasks?mine=true").json()["tasks"]
        if t["document_id"] == document
    ]
    complete = f"/v1/tasks/{task['id']}/complete"
    # A reply nobody drafted, or one the handler may not open, is refused.
    for reply in (str(uuid.uuid4()), document):
        refused = call(
            gateway, spec, "POST", complete, {"result": "Xong", "reply_document_id": reply}
        )
        assert refused.status_code == 400 and refused.json()["code"] == "INVALID_COMPLETION"
    drafted = draft(gateway, spec, make_pdf("Tra loi"), drafting_unit=agency.units["L"])
    assert drafted.status_code == 201, drafted.text
    reply = drafted.json()["id"]
    done = call(
        gateway, spec, "POST", complete, {"result": "Đã dự thảo", "reply_document_id": reply}
    )
    assert done.status_code == 200, done.text
    assert (done.json()["reply_document_id"], done.json()["status_code"]) == (reply, "06")


def test_a_unit_heads_delegate_handles_the_units_task_and_both_are_named(
    gateway: Gateway, clerk_token: str, agency: Agency
) -> None:
    units = agency.units
    document = gateway.register(clerk_token).json()["id"]
    assigned = call(
        gateway,
        gateway.token("lanhdao"),
        "POST",
        f"/v1/incoming-documents/{document}/assignment",
        {"lead_unit": units["D"], "opinion": OPINION},
    )
    assert assigned.status_code == 201, assigned.text
    [task] = [
        t
        for t in call(gateway, agency.token("D-head"), "GET", "/v1/tasks?mine=true").json()["tasks"]
        if t["document_id"] == document
    ]
    forward = f"/v1/tasks/{task['id']}/forward"
    body = {"to": [{"person_id": agency.id("D-spec")}], "on_behalf_of": agency.id("D-head")}
    # Without a delegation the specialist may not act for their head.
    refused = call(gateway, agency.token("D-spec"), "POST", forward, body)
    assert refused.status_code == 403 and refused.json()["code"] == "DELEGATION_REQUIRED"

    now = datetime.now(UTC)
    delegated = call(
        gateway,
        agency.token("D-head"),
        "POST",
        "/v1/delegations",
        {
            "from_person_id": agency.id("D-head"),
            "to_person_id": agency.id("D-spec"),
            "scope": ["handle"],
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "reason": "Đi công tác",
        },
    )
    assert delegated.status_code == 201, delegated.text

    def forwarded() -> httpx.Response | None:
        # A fresh token carries the new delegation.
        answer = call(gateway, agency.token("D-spec"), "POST", forward, body)
        return answer if answer.status_code == 201 else None

    answer = eventually(forwarded)
    [created] = answer.json()["tasks"]
    assert (created["created_by"], created["on_behalf_of"]) == (
        agency.id("D-spec"),
        agency.id("D-head"),
    )
