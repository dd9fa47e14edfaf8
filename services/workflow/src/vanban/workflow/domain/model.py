"""Assignments of incoming documents (phân công xử lý văn bản đến), Decree 30 art. 24."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from vanban.platform.clearance import Secrecy
from vanban.platform.errors import invalid_fields
from vanban.workflow.domain.calendar import WORKING_DAYS_MAX
from vanban.workflow.domain.values import CONTROL_RE, person_id

OPINION_MAX = 2000
UNITS_MAX = 50
PEOPLE_MAX = 50
_UNIT_RE = re.compile(r"^[0-9A-Z][0-9A-Z._-]{0,31}$")


@dataclass(frozen=True, slots=True)
class AssignmentDraft:
    document_id: str
    lead_unit: str
    coordinating_units: tuple[str, ...]
    informed_units: tuple[str, ...]
    opinion: str
    deadline: str
    on_behalf_of: str
    lead_person: str = ""
    coordinating_people: tuple[str, ...] = ()
    informed_people: tuple[str, ...] = ()
    deadline_working_days: int | None = None

    @property
    def people(self) -> tuple[str, ...]:
        lead = (self.lead_person,) if self.lead_person else ()
        return (*lead, *self.coordinating_people, *self.informed_people)

    def validated(self, *, today: date) -> tuple[AssignmentDraft, date | None]:
        """The draft cleaned, and its deadline when given as a date (working days are counted
        on the calendar by the caller)."""
        problems: dict[str, str] = {}
        try:
            uuid.UUID(self.document_id)
        except ValueError:
            problems["document_id"] = "must be a document id"
        lead = self.lead_unit.strip()
        named_lead = self.lead_person.strip()
        lead_person = person_id(named_lead) if named_lead else ""
        if bool(lead) == bool(named_lead):
            problems["lead_unit"] = (
                "name the lead (chủ trì): a unit (lead_unit) or a person (lead_person), one"
            )
        elif lead and not _UNIT_RE.match(lead):
            problems["lead_unit"] = "must be the code of the lead unit (đơn vị chủ trì)"
        people: dict[str, tuple[str, ...]] = {}
        for name, given in (
            ("lead_person", (named_lead,) if named_lead else ()),
            ("coordinating_people", self.coordinating_people),
            ("informed_people", self.informed_people),
        ):
            ids = tuple(dict.fromkeys(person_id(p) for p in given))
            if len(ids) > PEOPLE_MAX or not all(ids):
                problems[name] = f"must be at most {PEOPLE_MAX} person ids"
            people[name] = ids
        named = [*people["lead_person"], *people["coordinating_people"], *people["informed_people"]]
        if len(named) != len(set(named)):
            problems["informed_people"] = "a person has one role in an assignment"
        coordinating = tuple(dict.fromkeys(u.strip() for u in self.coordinating_units))
        informed = tuple(dict.fromkeys(u.strip() for u in self.informed_units))
        for name, units in (("coordinating_units", coordinating), ("informed_units", informed)):
            if len(units) > UNITS_MAX or not all(_UNIT_RE.match(u) for u in units):
                problems[name] = f"must be at most {UNITS_MAX} unit codes"
        if lead in coordinating or lead in informed:
            problems["lead_unit"] = "cannot also be coordinating or informed"
        if set(coordinating) & set(informed):
            problems["informed_units"] = "cannot also be coordinating"
        opinion = self.opinion.strip()
        if len(opinion) > OPINION_MAX or CONTROL_RE.search(opinion):
            problems["opinion"] = f"must be at most {OPINION_MAX} printable characters"
        deadline: date | None = None
        if self.deadline and self.deadline_working_days is not None:
            problems["deadline_working_days"] = "give a deadline as a date or working days, one"
        elif self.deadline_working_days is not None and not (
            0 <= self.deadline_working_days <= WORKING_DAYS_MAX
        ):
            problems["deadline_working_days"] = f"must be 0..{WORKING_DAYS_MAX}"
        if self.deadline:
            try:
                deadline = date.fromisoformat(self.deadline)
                if len(self.deadline) != 10:
                    raise ValueError
            except ValueError:
                problems["deadline"] = "must be a date written YYYY-MM-DD"
            else:
                if deadline < today:
                    problems["deadline"] = "cannot be in the past"
        if problems:
            raise invalid_fields(problems, reason="INVALID_ASSIGNMENT")
        clean = AssignmentDraft(
            document_id=self.document_id,
            lead_unit=lead,
            coordinating_units=coordinating,
            informed_units=informed,
            opinion=opinion,
            deadline=self.deadline,
            on_behalf_of=self.on_behalf_of.strip(),
            lead_person=lead_person,
            coordinating_people=people["coordinating_people"],
            informed_people=people["informed_people"],
            deadline_working_days=self.deadline_working_days,
        )
        return clean, deadline


@dataclass(frozen=True, slots=True)
class Assignment:
    """Phân công: who leads, who coordinates, who is informed (units, people), the one opinion
    and the deadline. `lead_unit` is "" when a person leads."""

    id: str
    document_id: str
    lead_unit: str
    coordinating_units: tuple[str, ...]
    informed_units: tuple[str, ...]
    opinion: str
    deadline: date | None
    assigned_by: str
    on_behalf_of: str | None
    assigned_at: datetime
    lead_person: str | None = None
    coordinating_people: tuple[str, ...] = ()
    informed_people: tuple[str, ...] = ()
    # The document's secrecy when it was assigned (lists across documents filter by it).
    secrecy: Secrecy = Secrecy.TOP_SECRET
