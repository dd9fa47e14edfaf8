"""Assignments of incoming documents (phân công xử lý văn bản đến), Decree 30 art. 24."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from vanban.platform.errors import invalid_fields

OPINION_MAX = 2000
UNITS_MAX = 50
_UNIT_RE = re.compile(r"^[0-9A-Z][0-9A-Z._-]{0,31}$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class AssignmentDraft:
    document_id: str
    lead_unit: str
    coordinating_units: tuple[str, ...]
    informed_units: tuple[str, ...]
    opinion: str
    deadline: str
    on_behalf_of: str

    def validated(self, *, today: date) -> tuple[AssignmentDraft, date | None]:
        problems: dict[str, str] = {}
        try:
            uuid.UUID(self.document_id)
        except ValueError:
            problems["document_id"] = "must be a document id"
        lead = self.lead_unit.strip()
        if not _UNIT_RE.match(lead):
            problems["lead_unit"] = "is required: the code of the lead unit (đơn vị chủ trì)"
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
        if len(opinion) > OPINION_MAX or _CONTROL_RE.search(opinion):
            problems["opinion"] = f"must be at most {OPINION_MAX} printable characters"
        deadline: date | None = None
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
        )
        return clean, deadline


@dataclass(frozen=True, slots=True)
class Assignment:
    """Phân công: who leads, who coordinates, who is informed, the one opinion and the deadline."""

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
