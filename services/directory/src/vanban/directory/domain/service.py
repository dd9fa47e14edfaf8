"""Use cases of the directory: sign-in, look-ups, and the first setup of an agency."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from vanban.directory.domain.events import PersonUpserted, UnitUpserted
from vanban.directory.domain.model import (
    Agency,
    Person,
    PersonDraft,
    Role,
    check_new_password,
    normalize_username,
)
from vanban.directory.domain.organisation_service import agency_summary, unit_summary
from vanban.directory.domain.paging import (
    PeoplePage,
    decode_people_page,
    encode_people_page,
    page_size,
)
from vanban.directory.domain.person_service import check_units_exist, person_summary
from vanban.directory.domain.ports import PasswordHasher, Transaction
from vanban.directory.domain.unit import Unit
from vanban.platform.credentials import check_credentials_format
from vanban.platform.errors import (
    FailedPreconditionError,
    NotFoundError,
    UnauthenticatedError,
    invalid_fields,
)


def bad_credentials() -> UnauthenticatedError:
    """The one answer to every failed sign-in, so it never tells which part was wrong."""
    return UnauthenticatedError("wrong username or password", reason="BAD_CREDENTIALS")


async def authenticate(
    *, tx: Transaction, hasher: PasswordHasher, username: str, password: str
) -> tuple[Person, Agency]:
    """Checks a local account's password and returns the person and their agency.

    An unknown username, a wrong password and a deactivated account fail alike and take alike
    long: the password is checked against a dummy hash when there is no account to check it
    against. A hash made with outdated parameters is replaced while the password is at hand.
    """
    # Refusing early keeps huge inputs from costing work.
    check_credentials_format(username, password)
    credentials = await tx.people.credentials(normalize_username(username))
    stored_hash = credentials.password_hash if credentials else hasher.dummy_hash
    matches = await hasher.verify(stored_hash, password)
    if credentials is None or not matches or not credentials.person.active:
        raise bad_credentials()
    person = credentials.person
    agency = await tx.agency.get()
    if agency is None:
        raise FailedPreconditionError(
            "the directory has no agency yet; run the bootstrap", reason="AGENCY_NOT_CONFIGURED"
        )
    if hasher.needs_rehash(stored_hash):
        await tx.people.set_password_hash(person.id, await hasher.hash(password))
        tx.audit(action="person.password.rehash", resource=f"people/{person.id}")
        await tx.commit()
    return person, agency


async def get_agency(*, tx: Transaction) -> Agency:
    agency = await tx.agency.get()
    if agency is None:
        raise NotFoundError("the directory has no agency yet", reason="AGENCY_NOT_CONFIGURED")
    return agency


async def get_person(*, tx: Transaction, person_id: str) -> Person:
    if not person_id.strip():
        raise invalid_fields({"id": "is required"}, reason="INVALID_PERSON_ID")
    person = await tx.people.get(person_id.strip())
    if person is None:
        raise NotFoundError("no person with this id", reason="PERSON_NOT_FOUND")
    return person


async def list_people(
    *, tx: Transaction, role: Role | None, requested_page_size: int, page_token: str
) -> tuple[list[Person], str]:
    """Active people ordered by username, one page at a time; the token resumes the listing."""
    role_key = role.value if role else ""
    size = page_size(requested_page_size)
    page = decode_people_page(page_token, role=role_key)
    people = await tx.people.list_active(
        role=role, after_username=page.after_username if page else None, limit=size + 1
    )
    if len(people) <= size:
        return people, ""
    people = people[:size]
    return people, encode_people_page(PeoplePage(after_username=people[-1].username, role=role_key))


@dataclass(frozen=True, slots=True)
class UnitSeed:
    """A unit the bootstrap creates, with its head named by username."""

    unit: Unit
    head_username: str | None = None


@dataclass(frozen=True, slots=True)
class BootstrapReport:
    agency_created: bool
    people_created: tuple[str, ...]
    people_kept: tuple[str, ...]
    units_created: tuple[str, ...] = ()


async def bootstrap(
    *,
    tx: Transaction,
    hasher: PasswordHasher,
    agency: Agency,
    people: Sequence[PersonDraft],
    password: str,
    now: datetime,
    units: Sequence[UnitSeed] = (),
    must_change_password: bool = False,
) -> BootstrapReport:
    """Creates the agency, its first units and its first people unless they already exist.
    With `must_change_password`, the people created must change the password at first sign-in
    (an agency's first administrator, whose password someone typed into a terminal).

    Running it again changes nothing: an existing agency, unit or account is left exactly as
    it is, so a password its owner has changed is never reset to the initial one. Units come
    before people (memberships must name existing units); a unit created now gets its head
    once the people exist.
    """
    wanted = agency.validated()
    seeds = [replace(seed, unit=seed.unit.validated()) for seed in units]
    drafts = [draft.validated() for draft in people]
    check_new_password(password)
    existing = await tx.agency.get()
    if existing is not None and existing.code != wanted.code:
        raise FailedPreconditionError(
            f"this directory already serves agency {existing.code}",
            reason="AGENCY_MISMATCH",
            metadata={"agency_code": existing.code},
        )
    if existing is None:
        await tx.agency.add(wanted)
        tx.audit(
            action="agency.create", resource=f"agencies/{wanted.code}", after=agency_summary(wanted)
        )
    await tx.units.lock_tree(shared=True)
    new_units: list[UnitSeed] = []
    for seed in seeds:
        headless = replace(seed.unit, head_person_id=None, deputy_person_ids=())
        if await tx.units.add_if_absent(headless):
            new_units.append(replace(seed, unit=headless))
    created: list[str] = []
    kept: list[str] = []
    for draft in drafts:
        if await create_person(
            tx=tx,
            hasher=hasher,
            draft=draft,
            password=password,
            now=now,
            must_change=must_change_password,
        ):
            created.append(draft.username)
        else:
            kept.append(draft.username)
    for seed in new_units:
        unit = seed.unit
        head = await tx.people.get_by_username(seed.head_username) if seed.head_username else None
        if head is not None:
            unit = replace(unit, head_person_id=head.id)
            await tx.units.update(unit)
        tx.record(UnitUpserted(unit=unit, occurred_at=now))
        tx.audit(action="unit.create", resource=f"units/{unit.code}", after=unit_summary(unit))
    await tx.commit()
    return BootstrapReport(
        agency_created=existing is None,
        people_created=tuple(created),
        people_kept=tuple(kept),
        units_created=tuple(seed.unit.code for seed in new_units),
    )


async def create_person(
    *,
    tx: Transaction,
    hasher: PasswordHasher,
    draft: PersonDraft,
    password: str,
    now: datetime,
    must_change: bool = False,
) -> bool:
    """Adds a person unless the username is taken; True when added. The caller commits and
    holds the tree lock."""
    clean = draft.validated()
    if await tx.people.get_by_username(clean.username) is not None:
        return False
    await check_units_exist(tx, clean.unit_codes)
    person = Person(
        id=str(uuid.uuid4()),
        username=clean.username,
        full_name=clean.full_name,
        position_title=clean.position_title,
        roles=frozenset(clean.roles),
        unit_codes=tuple(clean.unit_codes),
        clearance=clean.clearance,
        active=True,
        created_at=now,
        email=clean.email,
        external_subject=clean.external_subject,
        password_must_change=must_change,
    )
    # Another bootstrap may have added the same username since the look-up: that one wins.
    if not await tx.people.add_if_absent(person, password_hash=await hasher.hash(password)):
        return False
    tx.record(PersonUpserted(person=person, occurred_at=now))
    tx.audit(action="person.create", resource=f"people/{person.id}", after=person_summary(person))
    return True
