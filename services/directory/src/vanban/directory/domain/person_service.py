"""Use cases of people administration: create, change, passwords, deactivation, look-up."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from vanban.directory.domain.access import require_admin
from vanban.directory.domain.delegation_service import revoke_for_deactivation
from vanban.directory.domain.events import PersonDeactivated, PersonUpserted
from vanban.directory.domain.model import (
    PASSWORD_MIN,
    Person,
    PersonChanges,
    PersonDraft,
    Role,
    check_new_password,
    ends_sessions,
    normalize_email,
    normalize_username,
)
from vanban.directory.domain.ports import PasswordHasher, Transaction
from vanban.platform.caller import Caller
from vanban.platform.credentials import PASSWORD_MAX
from vanban.platform.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
    invalid_fields,
)


def person_not_found() -> NotFoundError:
    return NotFoundError("no person with this id", reason="PERSON_NOT_FOUND")


def person_summary(person: Person) -> dict[str, object]:
    """The audited view of a person (never the password or its hash)."""
    return {
        "username": person.username,
        "full_name": person.full_name,
        "position_title": person.position_title,
        "roles": sorted(role.value for role in person.roles),
        "unit_codes": list(person.unit_codes),
        "clearance": person.clearance.value,
        "active": person.active,
        "email": person.email,
        "external_subject": person.external_subject,
        "password_must_change": person.password_must_change,
        "session_version": person.session_version,
        "signature_image": person.signature_image.sha256 if person.signature_image else None,
    }


async def check_units_exist(tx: Transaction, codes: Iterable[str]) -> None:
    """Memberships must name existing units. The caller holds the tree lock (shared), so
    none of them can be deleted before the transaction ends."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return
    missing = [code for code in wanted if code not in await tx.units.existing_codes(wanted)]
    if missing:
        raise invalid_fields(
            {"unit_codes": f"there is no unit {', '.join(missing)}"}, reason="UNKNOWN_UNIT"
        )


async def check_identifiers_free(
    tx: Transaction, draft: PersonDraft, *, person_id: str | None = None
) -> None:
    """Username, e-mail and external subject each name at most one person."""
    taken: list[FieldViolation] = []
    for field, value, lookup in (
        ("username", draft.username, tx.people.get_by_username),
        ("email", draft.email, tx.people.get_by_email),
        ("external_subject", draft.external_subject, tx.people.get_by_external_subject),
    ):
        if value is None:
            continue
        holder = await lookup(value)
        if holder is not None and holder.id != person_id:
            taken.append(FieldViolation(field=field, description=f"{value} is already taken"))
    if taken:
        raise AlreadyExistsError(
            "; ".join(f"{v.field}: {v.description}" for v in taken),
            reason="PERSON_EXISTS",
            violations=tuple(taken),
        )


async def create_person(
    *,
    tx: Transaction,
    caller: Caller,
    hasher: PasswordHasher,
    draft: PersonDraft,
    password: str,
    must_change: bool,
    now: datetime,
) -> Person:
    """Adds a person with an initial password; every unit they belong to must exist."""
    require_admin(caller)
    clean = draft.validated()
    check_new_password(password)
    await tx.units.lock_tree(shared=True)
    await check_units_exist(tx, clean.unit_codes)
    await check_identifiers_free(tx, clean)
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
    if not await tx.people.add_if_absent(person, password_hash=await hasher.hash(password)):
        raise AlreadyExistsError(
            "the username, e-mail or external subject was taken meanwhile", reason="PERSON_EXISTS"
        )
    tx.record(PersonUpserted(person=person, occurred_at=now))
    tx.audit(action="person.create", resource=f"people/{person.id}", after=person_summary(person))
    await tx.commit()
    return person


async def update_person(
    *, tx: Transaction, caller: Caller, person_id: str, changes: PersonChanges, now: datetime
) -> Person:
    """Changes a person; `active=False` deactivates them (see `deactivate_person`)."""
    require_admin(caller)
    if changes.unit_codes is not None:
        await tx.units.lock_tree(shared=True)
    current = await _existing(tx, person_id, lock=True)
    updated = changes.applied_to(current)
    if updated == current:
        return current
    if ends_sessions(current, updated):
        updated = replace(updated, session_version=current.session_version + 1)
    added_units = [code for code in updated.unit_codes if code not in current.unit_codes]
    await check_units_exist(tx, added_units)
    await check_identifiers_free(tx, updated.draft(), person_id=current.id)
    await _keep_an_admin(tx, before=current, after=updated)
    await tx.people.update(updated)
    tx.record(PersonUpserted(person=updated, occurred_at=now))
    if current.active and not updated.active:
        tx.record(PersonDeactivated(person=updated, occurred_at=now))
        await revoke_for_deactivation(tx, person_id=current.id, by=caller.subject, now=now)
    tx.audit(
        action="person.deactivate" if current.active and not updated.active else "person.update",
        resource=f"people/{current.id}",
        before=person_summary(current),
        after=person_summary(updated),
    )
    await tx.commit()
    return updated


async def deactivate_person(
    *, tx: Transaction, caller: Caller, person_id: str, now: datetime
) -> Person:
    """The person can no longer sign in, and their open delegations (both ways) are revoked;
    their records and history stay. Deactivating an inactive person changes nothing."""
    return await update_person(
        tx=tx, caller=caller, person_id=person_id, changes=PersonChanges(active=False), now=now
    )


async def set_password(
    *,
    tx: Transaction,
    caller: Caller,
    hasher: PasswordHasher,
    person_id: str,
    password: str,
    must_change: bool,
    now: datetime,
) -> Person:
    """An administrator sets someone's password, usually a temporary one (`must_change`);
    the person's sessions end."""
    require_admin(caller)
    check_new_password(password)
    current = await _existing(tx, person_id, lock=True)
    updated = replace(
        current, password_must_change=must_change, session_version=current.session_version + 1
    )
    await tx.people.set_password(
        current.id,
        password_hash=await hasher.hash(password),
        must_change=must_change,
        session_version=updated.session_version,
    )
    tx.record(PersonUpserted(person=updated, occurred_at=now))
    tx.audit(
        action="person.password.set",
        resource=f"people/{current.id}",
        after={"password_must_change": must_change},
    )
    await tx.commit()
    return updated


def wrong_current_password() -> InvalidArgumentError:
    return InvalidArgumentError(
        "current_password: is not your current password",
        reason="WRONG_CURRENT_PASSWORD",
        violations=(
            FieldViolation(field="current_password", description="is not your current password"),
        ),
    )


async def change_own_password(
    *,
    tx: Transaction,
    caller: Caller,
    hasher: PasswordHasher,
    current_password: str,
    new_password: str,
    now: datetime,
) -> Person:
    """A signed-in person replaces their own password, proving they know the current one; a
    password an administrator set to be changed is replaced this way. Every session of the
    person ends (the gateway hands the caller a new one)."""
    person_id = caller.person_id
    if not current_password or len(current_password) > PASSWORD_MAX:
        raise wrong_current_password()
    try:
        check_new_password(new_password)
    except InvalidArgumentError:
        raise invalid_fields(
            {"new_password": f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"},
            reason="INVALID_PASSWORD",
        ) from None
    credentials = await tx.people.credentials_by_id(person_id, lock=True)
    if credentials is None or not credentials.person.active:
        raise person_not_found()
    if not await hasher.verify(credentials.password_hash, current_password):
        raise wrong_current_password()
    if new_password == current_password:
        raise invalid_fields(
            {"new_password": "must differ from the current password"}, reason="PASSWORD_UNCHANGED"
        )
    current = credentials.person
    updated = replace(
        current, password_must_change=False, session_version=current.session_version + 1
    )
    await tx.people.set_password(
        current.id,
        password_hash=await hasher.hash(new_password),
        must_change=False,
        session_version=updated.session_version,
    )
    tx.record(PersonUpserted(person=updated, occurred_at=now))
    tx.audit(
        action="person.password.change",
        resource=f"people/{current.id}",
        before={"password_must_change": current.password_must_change},
        after={"password_must_change": False},
    )
    await tx.commit()
    return updated


async def find_person(
    *,
    tx: Transaction,
    caller: Caller,
    username: str = "",
    external_subject: str = "",
    email: str = "",
) -> Person:
    """The person one identifier names, for platform services mapping a sign-in (e.g. an
    OIDC identity) to a person. Inactive people are found too; the caller decides."""
    caller.require_service()
    given = {
        name: value.strip()
        for name, value in (
            ("username", username),
            ("external_subject", external_subject),
            ("email", email),
        )
        if value.strip()
    }
    if len(given) != 1:
        raise invalid_fields(
            {"key": "exactly one of username, external_subject and email is required"},
            reason="INVALID_LOOKUP",
        )
    [(name, value)] = given.items()
    if len(value) > 255:
        raise invalid_fields({name: "is too long"}, reason="INVALID_LOOKUP")
    if name == "username":
        person = await tx.people.get_by_username(normalize_username(value))
    elif name == "email":
        person = await tx.people.get_by_email(normalize_email(value) or "")
    else:
        person = await tx.people.get_by_external_subject(value)
    if person is None:
        raise NotFoundError(f"no person with this {name}", reason="PERSON_NOT_FOUND")
    return person


async def _existing(tx: Transaction, person_id: str, *, lock: bool = False) -> Person:
    if not person_id.strip():
        raise invalid_fields({"person_id": "is required"}, reason="INVALID_PERSON_ID")
    person = await tx.people.get(person_id.strip(), lock=lock)
    if person is None:
        raise person_not_found()
    return person


async def _keep_an_admin(tx: Transaction, *, before: Person, after: Person) -> None:
    """The last active administrator may not be deactivated or lose the role: nobody would
    be left to manage the directory."""
    was_admin = before.active and Role.ADMIN in before.roles
    is_admin = after.active and Role.ADMIN in after.roles
    if was_admin and not is_admin and await tx.people.count_active_admins() <= 1:
        raise FailedPreconditionError(
            f"{before.username} is the last active administrator", reason="LAST_ADMIN"
        )
