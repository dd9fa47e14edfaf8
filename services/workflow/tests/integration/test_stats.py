"""Statistics on real PostgreSQL equal a count made directly from the test's own records: a
generated month of 2,000 documents with mixed outcomes (on time, late, in progress, overdue,
returned, recalled), some just outside the month; for the agency, every unit and person, a unit
head's view and the overdue list."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from vanban.platform.caller import Caller
from vanban.platform.clearance import Clearance
from vanban.platform.db import session_factory
from vanban.platform.errors import PermissionDeniedError
from vanban.platform.migrations import upgrade_async
from vanban.workflow.adapters.db.stats import SqlStats
from vanban.workflow.adapters.db.tables import assignments, tasks
from vanban.workflow.app import MIGRATIONS
from vanban.workflow.domain.stats import Counts, Stats, overdue_tasks, statistics
from vanban.workflow.domain.tasks import Organisation, Task, Unit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.now(TZ)
TODAY = NOW.date()
# The month before this one: every outcome, including deadlines still ahead, fits around it.
LAST = TODAY.replace(day=1) - timedelta(days=1)
FIRST = LAST.replace(day=1)
UNITS = {"A": None, "A1": "A", "B": None, "C": None, "D": None}
PEOPLE = {f"p{i}": unit for i, unit in enumerate(["A", "A", "A1", "B", "B", "C", "D", "D"])}
ORG = Organisation(
    units={code: Unit(code, parent, head=f"head-{code}") for code, parent in UNITS.items()},
    members={},
)
OUTCOMES = ("on_time", "late", "in_progress", "overdue", "returned", "recalled")


@dataclass
class Row:
    id: str
    document_id: str
    assignment_id: str
    parent_id: str | None
    role: str
    unit: str | None
    person: str | None
    created_at: datetime
    deadline: date | None
    state: str
    closed_at: datetime | None
    # The lead task of the document's current assignment (a reassigned document's former lead
    # task is not).
    current_lead: bool = False
    # The document's secrecy, as its assignment keeps it.
    secrecy: str = "none"


def local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def outcome_of(rng: random.Random, created: datetime) -> tuple[str, date | None, datetime | None]:
    """A state, deadline and closing time for one of the outcomes, with the edge days: completed
    late in the evening of the deadline (on time), deadline today (in progress)."""
    kind = rng.choice(OUTCOMES)
    start = created.astimezone(TZ).date()
    if kind == "on_time":
        deadline = start + timedelta(days=rng.randint(0, 20))
        closed = local(deadline, 23, 30) if rng.random() < 0.3 else local(start, 10)
        return "completed", rng.choice([deadline, None]), closed
    if kind == "late":
        deadline = start + timedelta(days=rng.randint(0, 10))
        return "completed", deadline, local(deadline + timedelta(days=1), 0, 5)
    if kind == "in_progress":
        deadline = TODAY + timedelta(days=rng.randint(0, 30))
        return rng.choice(["assigned", "in_progress"]), rng.choice([deadline, None]), None
    if kind == "overdue":
        deadline = min(TODAY - timedelta(days=1), start + timedelta(days=rng.randint(0, 15)))
        return rng.choice(["assigned", "in_progress"]), deadline, None
    if kind == "returned":
        return "returned", None, local(start, 15)
    return "recalled", None, local(start, 16)


def generate(count: int, seed: int = 20261129) -> list[Row]:
    rng = random.Random(seed)
    rows: list[Row] = []
    days = (LAST - FIRST).days + 1
    for n in range(count + 60):
        if n < count:
            created = local(FIRST + timedelta(days=rng.randrange(days)), rng.randint(7, 17))
        else:  # just outside the month, and exactly on its edges
            created = rng.choice(
                [
                    local(FIRST, 0, 0),  # the first instant: inside
                    local(LAST + timedelta(days=1), 0, 0),  # the day after: outside
                    local(FIRST, 0, 0) - timedelta(seconds=1),  # outside
                    local(LAST, 23, 59),  # inside
                ]
            )
        document, assignment = str(uuid.uuid4()), str(uuid.uuid4())
        secrecy = rng.choice(["none", "none", "confidential", "secret"])
        if rng.random() < 0.1:
            # Reassigned: the former lead gave it back or finished; the document counts once.
            rows.append(
                Row(
                    str(uuid.uuid4()), document, str(uuid.uuid4()), None, "lead",
                    rng.choice(list(UNITS)), None, created - timedelta(hours=2), None,
                    rng.choice(["returned", "completed"]), created - timedelta(hours=1),
                    secrecy=secrecy,
                )
            )  # fmt: skip
        lead, *others = rng.sample(list(UNITS), k=rng.randint(1, 3))
        roots = [("lead", lead)] + [("coordinating", u) for u in others]
        for role, unit in roots:
            state, deadline, closed = outcome_of(rng, created)
            root = Row(
                str(uuid.uuid4()), document, assignment, None, role, unit, None,
                created, deadline, state, closed, current_lead=role == "lead", secrecy=secrecy,
            )  # fmt: skip
            rows.append(root)
            staff = [p for p, u in PEOPLE.items() if u == unit]
            if staff and rng.random() < 0.6:
                at = created + timedelta(hours=rng.randint(1, 30))
                state, deadline, closed = outcome_of(rng, at)
                rows.append(
                    Row(
                        str(uuid.uuid4()),
                        document,
                        assignment,
                        root.id,
                        "lead",
                        None,
                        rng.choice(staff),
                        at,
                        deadline,
                        state,
                        closed,
                        secrecy=secrecy,
                    )
                )
    return rows


def held_by(*, unit: str = "", person: str = "") -> Callable[[Row], bool]:
    return lambda r: (r.unit == unit) if unit else (r.person == person)


def expected(rows: list[Row], *, keep: Callable[[Row], bool]) -> Counts:
    tally: Counter[str] = Counter()
    for r in rows:
        if not keep(r) or r.state == "recalled":
            continue
        if not FIRST <= r.created_at.astimezone(TZ).date() <= LAST:
            continue
        tally["received"] += 1
        if r.state == "completed":
            closed_on = r.closed_at.astimezone(TZ).date() if r.closed_at else None
            late = r.deadline is not None and closed_on is not None and closed_on > r.deadline
            tally["completed_late" if late else "completed_on_time"] += 1
        elif r.state in ("assigned", "in_progress"):
            late = r.deadline is not None and r.deadline < TODAY
            tally["overdue" if late else "in_progress"] += 1
        elif r.state == "returned":
            tally["returned"] += 1
    return Counts(**tally)


@pytest.fixture(scope="module")
async def engine(make_database: Callable[..., str]) -> AsyncIterator[AsyncEngine]:
    url = make_database("workflow")
    await upgrade_async(url, MIGRATIONS)
    made = create_async_engine(url, pool_size=2)
    try:
        yield made
    finally:
        await made.dispose()


@pytest.fixture(scope="module")
async def month(engine: AsyncEngine) -> list[Row]:
    rows = generate(2000)
    async with engine.begin() as connection:
        for assignment_id, document_id, secrecy in {
            (r.assignment_id, r.document_id, r.secrecy) for r in rows
        }:
            await connection.execute(
                insert(assignments).values(
                    id=assignment_id, document_id=document_id, lead_unit="A",
                    coordinating_units=[], informed_units=[], opinion="", deadline=None,
                    assigned_by="leader", on_behalf_of=None, assigned_at=NOW, secrecy=secrecy,
                )
            )  # fmt: skip
        await connection.execute(
            insert(tasks),
            [
                {
                    "id": r.id, "assignment_id": r.assignment_id, "document_id": r.document_id,
                    "parent_id": r.parent_id, "role": r.role, "holder_unit": r.unit,
                    "holder_person": r.person,
                    "holder_key": f"unit:{r.unit}" if r.unit else f"person:{r.person}",
                    "deadline": r.deadline, "note": "", "state": r.state,
                    "created_by": "leader", "on_behalf_of": None, "created_at": r.created_at,
                    "closed_at": r.closed_at, "current_lead": r.current_lead,
                }
                for r in sorted(rows, key=lambda r: r.parent_id is not None)
            ],
        )  # fmt: skip
    return rows


def caller(subject: str, *roles: str, clearance: Clearance = Clearance.TOP_SECRET) -> Caller:
    return Caller(
        agency_code="000.00.00.H99", subject=subject, roles=frozenset(roles), clearance=clearance
    )


async def ask(engine: AsyncEngine, who: Caller, *, unit: str = "", person: str = "") -> Stats:
    async with session_factory(engine)() as session:
        return await statistics(
            repository=SqlStats(session), actor=who, org=ORG, first=FIRST.isoformat(),
            last=LAST.isoformat(), unit=unit, person=person, now=NOW, tz_name=TZ.key,
        )  # fmt: skip


async def test_the_agency_every_unit_and_person_count_exactly_what_was_recorded(
    engine: AsyncEngine, month: list[Row]
) -> None:
    found = await ask(engine, caller("chairman", "agency_leader"))

    agency = expected(month, keep=lambda r: r.current_lead)
    assert found.agency == agency
    # Every document of the month is counted once, but those whose lead task was taken back.
    leads = [
        r for r in month if r.current_lead and FIRST <= r.created_at.astimezone(TZ).date() <= LAST
    ]
    assert len(leads) >= 2000
    assert agency.received == len([r for r in leads if r.state != "recalled"])
    # The reassigned ones' former lead tasks are their units' work, not a second document.
    assert any(not r.current_lead and r.parent_id is None and r.role == "lead" for r in month)
    assert min(vars_of(agency).values()) > 100, "every outcome is represented"
    assert found.units == {u: expected(month, keep=held_by(unit=u)) for u in UNITS}
    assert found.people == {p: expected(month, keep=held_by(person=p)) for p in PEOPLE}
    for counts in [found.agency, *found.units.values(), *found.people.values()]:
        assert counts.received == sum(v for k, v in vars_of(counts).items() if k != "received")


def vars_of(counts: Counts) -> dict[str, int]:
    return {f: getattr(counts, f) for f in Counts.__dataclass_fields__}


async def test_a_unit_head_sees_their_units_and_their_people_and_nothing_else(
    engine: AsyncEngine, month: list[Row]
) -> None:
    head = caller("head-A", "unit_head")
    found = await ask(engine, head, unit="A")

    assert found.agency is None
    assert set(found.units) == {"A", "A1"}
    assert found.units["A"] == expected(month, keep=held_by(unit="A"))
    assert found.units["A1"] == expected(month, keep=held_by(unit="A1"))
    by_id = {r.id: r for r in month}

    def from_a(person: str) -> Callable[[Row], bool]:
        def keep(r: Row) -> bool:
            parent = by_id[r.parent_id] if r.parent_id else None
            return r.person == person and parent is not None and parent.unit in ("A", "A1")

        return keep

    assert found.people == {p: expected(month, keep=from_a(p)) for p in ("p0", "p1", "p2")}
    with pytest.raises(PermissionDeniedError):
        await ask(engine, head, unit="B")
    with pytest.raises(PermissionDeniedError):
        await ask(engine, head, person="p3")
    own = await ask(engine, caller("p3", "specialist"))
    assert own.agency is None and own.units == {}
    assert own.people == {"p3": expected(month, keep=held_by(person="p3"))}


async def all_overdue(
    engine: AsyncEngine, who: Caller, *, unit: str = "", person: str = ""
) -> list[Task]:
    listed: list[Task] = []
    after = None
    async with session_factory(engine)() as session:
        while True:
            page = await overdue_tasks(
                repository=SqlStats(session), actor=who, org=ORG, unit=unit, person=person,
                after=after, size=97, now=NOW,
            )  # fmt: skip
            listed += page
            if len(page) < 97:
                return listed
            last = page[-1]
            assert last.deadline is not None
            after = (last.deadline, last.id)


def overdue_of(month: list[Row], keep: Callable[[Row], bool]) -> list[str]:
    late = [
        r
        for r in month
        if r.state in ("assigned", "in_progress") and r.deadline and r.deadline < TODAY and keep(r)
    ]
    return [r.id for r in sorted(late, key=lambda r: (r.deadline, r.id))]


async def test_the_overdue_list_is_every_open_task_past_its_deadline_oldest_first(
    engine: AsyncEngine, month: list[Row]
) -> None:
    leader = caller("chairman", "agency_leader", clearance=Clearance.TOP_SECRET)
    everything = await all_overdue(engine, leader)
    assert [t.id for t in everything] == overdue_of(month, lambda r: True)
    assert len(everything) > 100


async def test_the_overdue_list_shows_only_what_the_reader_is_cleared_for_and_may_see(
    engine: AsyncEngine, month: list[Row]
) -> None:
    # A leader cleared for "confidential" sees no task of a secret document, nor its notes.
    cleared = caller("deputy", "deputy_agency_leader", clearance=Clearance.CONFIDENTIAL)
    assert [t.id for t in await all_overdue(engine, cleared)] == overdue_of(
        month, lambda r: r.secrecy in ("none", "confidential")
    )
    # A unit head: their units' tasks and those forwarded from them to people.
    by_id = {r.id: r for r in month}

    def of_a(r: Row) -> bool:
        parent = by_id[r.parent_id] if r.parent_id else None
        return r.unit in ("A", "A1") or (parent is not None and parent.unit in ("A", "A1"))

    head = caller("head-A", "unit_head", clearance=Clearance.TOP_SECRET)
    assert [t.id for t in await all_overdue(engine, head, unit="A")] == overdue_of(month, of_a)
    own = caller("p3", "specialist", clearance=Clearance.TOP_SECRET)
    assert [t.id for t in await all_overdue(engine, own)] == overdue_of(
        month, lambda r: r.person == "p3"
    )
