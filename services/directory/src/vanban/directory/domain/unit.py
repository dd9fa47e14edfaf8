"""The units tree (đơn vị): its nodes and the rules that keep it a tree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from vanban.directory.domain.model import (
    ABBREVIATION_MAX,
    UNIT_CODE_MAX,
    check_optional_text,
    check_text,
    is_unit_code,
)
from vanban.platform.errors import invalid_fields

UNIT_NAME_MAX = 200
PERSON_ID_MAX = 36
DEPUTIES_MAX = 20


@dataclass(frozen=True, slots=True)
class Unit:
    """Đơn vị, phòng ban: a node of the agency's organisation tree.

    The code is the unit's identity: people's memberships and child units refer to it, so it
    never changes. A root unit has no parent.
    """

    code: str
    name: str
    abbreviation: str = ""
    parent_code: str | None = None
    head_person_id: str | None = None
    deputy_person_ids: tuple[str, ...] = ()

    def validated(self) -> Unit:
        """Normalises the fields and checks every one; raises one error naming all problems."""
        code = self.code.strip()
        unit = Unit(
            code=code,
            name=" ".join(self.name.split()),
            abbreviation=self.abbreviation.strip() or code,
            parent_code=(self.parent_code or "").strip() or None,
            head_person_id=(self.head_person_id or "").strip() or None,
            deputy_person_ids=tuple(
                dict.fromkeys(p.strip() for p in self.deputy_person_ids if p.strip())
            ),
        )
        problems: dict[str, str] = {}
        if not unit.code:
            problems["code"] = "is required"
        elif not is_unit_code(unit.code):
            problems["code"] = (
                f"must be at most {UNIT_CODE_MAX} of A-Z, 0-9, '.', '_' and '-', such as VP"
            )
        check_text(problems, "name", unit.name, UNIT_NAME_MAX)
        check_optional_text(problems, "abbreviation", unit.abbreviation, ABBREVIATION_MAX)
        if unit.parent_code is not None:
            if not is_unit_code(unit.parent_code):
                problems["parent_code"] = f"{unit.parent_code!r} is not a unit code"
            elif unit.parent_code == unit.code:
                problems["parent_code"] = "a unit cannot be its own parent"
        if unit.head_person_id is not None and len(unit.head_person_id) > PERSON_ID_MAX:
            problems["head_person_id"] = "is not a person id"
        if len(unit.deputy_person_ids) > DEPUTIES_MAX:
            problems["deputy_person_ids"] = f"at most {DEPUTIES_MAX} deputies"
        elif any(len(p) > PERSON_ID_MAX for p in unit.deputy_person_ids):
            problems["deputy_person_ids"] = "holds something that is not a person id"
        elif unit.head_person_id is not None and unit.head_person_id in unit.deputy_person_ids:
            problems["deputy_person_ids"] = "the head cannot also be a deputy"
        if problems:
            raise invalid_fields(problems, reason="INVALID_UNIT")
        return unit

    @property
    def person_ids(self) -> tuple[str, ...]:
        """Everyone the unit names: its head, then its deputies."""
        head = (self.head_person_id,) if self.head_person_id else ()
        return (*head, *self.deputy_person_ids)


@dataclass(frozen=True, slots=True)
class UnitChanges:
    """What an administrator changes in a unit; None leaves a field as it is.

    An empty `parent_code` or `head_person_id` clears it (the unit becomes a root, or headless).
    """

    name: str | None = None
    abbreviation: str | None = None
    parent_code: str | None = None
    head_person_id: str | None = None
    deputy_person_ids: Iterable[str] | None = None

    def applied_to(self, unit: Unit) -> Unit:
        changed = unit
        if self.name is not None:
            changed = replace(changed, name=self.name)
        if self.abbreviation is not None:
            changed = replace(changed, abbreviation=self.abbreviation)
        if self.parent_code is not None:
            changed = replace(changed, parent_code=self.parent_code or None)
        if self.head_person_id is not None:
            changed = replace(changed, head_person_id=self.head_person_id or None)
        if self.deputy_person_ids is not None:
            changed = replace(changed, deputy_person_ids=tuple(self.deputy_person_ids))
        return changed.validated()


def ancestors(units: Mapping[str, Unit], code: str | None) -> list[str]:
    """The codes from `code` up to its root, `code` first; stops if the data ever loops."""
    chain: list[str] = []
    while code is not None and code not in chain:
        chain.append(code)
        parent = units.get(code)
        code = parent.parent_code if parent else None
    return chain


def would_cycle(units: Mapping[str, Unit], *, code: str, new_parent: str | None) -> bool:
    """True when putting unit `code` under `new_parent` would make it its own ancestor, i.e.
    when `new_parent` is `code` itself or one of its descendants."""
    return code in ancestors(units, new_parent)


def tree_order(units: Iterable[Unit]) -> list[Unit]:
    """Every unit once, parents before their children (depth first), siblings by code.

    A unit whose parent is unknown is listed as a root rather than lost.
    """
    by_code = {unit.code: unit for unit in units}
    children: dict[str | None, list[Unit]] = {}
    for unit in by_code.values():
        parent = unit.parent_code if unit.parent_code in by_code else None
        children.setdefault(parent, []).append(unit)
    ordered: list[Unit] = []
    seen: set[str] = set()
    stack = sorted(children.get(None, []), key=lambda u: u.code, reverse=True)
    while stack:
        unit = stack.pop()
        if unit.code in seen:
            continue
        seen.add(unit.code)
        ordered.append(unit)
        stack.extend(sorted(children.get(unit.code, []), key=lambda u: u.code, reverse=True))
    # Units caught in a loop (only possible with corrupted data) are still listed.
    ordered.extend(
        sorted((u for u in by_code.values() if u.code not in seen), key=lambda u: u.code)
    )
    return ordered
