from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.directory.adapters.db.tables import agency, delegations, people, units
from vanban.directory.domain.delegation import Delegation
from vanban.directory.domain.model import Agency, ImageRef, Person, Role
from vanban.directory.domain.ports import Credentials
from vanban.directory.domain.unit import Unit
from vanban.platform.clearance import Clearance
from vanban.platform.errors import AlreadyExistsError

# pg_advisory_xact_lock key of the units tree ("VBUT").
_TREE_LOCK = 0x56425554
# First key of the per-delegator advisory locks ("VBDL"); the second is a hash of the person.
_DELEGATOR_LOCK = 0x5642444C

_PERSON_COLUMNS = (
    people.c.id,
    people.c.username,
    people.c.full_name,
    people.c.position_title,
    people.c.roles,
    people.c.unit_codes,
    people.c.clearance,
    people.c.active,
    people.c.created_at,
    people.c.email,
    people.c.external_subject,
    people.c.password_must_change,
    people.c.signature_sha256,
    people.c.signature_size,
    people.c.session_version,
)


def _image(sha256: str | None, size: int | None) -> ImageRef | None:
    return ImageRef(sha256=sha256, size=size or 0) if sha256 else None


def _person(row: Any) -> Person:
    return Person(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        position_title=row.position_title,
        roles=frozenset(Role(name) for name in row.roles),
        unit_codes=tuple(row.unit_codes),
        clearance=Clearance(row.clearance),
        active=row.active,
        created_at=row.created_at,
        email=row.email,
        external_subject=row.external_subject,
        password_must_change=row.password_must_change,
        signature_image=_image(row.signature_sha256, row.signature_size),
        session_version=row.session_version,
    )


def _person_values(person: Person) -> dict[str, object]:
    return {
        "id": person.id,
        "username": person.username,
        "full_name": person.full_name,
        "position_title": person.position_title,
        "roles": sorted(role.value for role in person.roles),
        "unit_codes": list(person.unit_codes),
        "clearance": person.clearance.value,
        "active": person.active,
        "created_at": person.created_at,
        "email": person.email,
        "external_subject": person.external_subject,
        "password_must_change": person.password_must_change,
        "signature_sha256": person.signature_image.sha256 if person.signature_image else None,
        "signature_size": person.signature_image.size if person.signature_image else None,
        "session_version": person.session_version,
    }


class SqlAgencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, *, lock: bool = False) -> Agency | None:
        query = select(agency).limit(1)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        return Agency(
            code=row.code,
            name=row.name,
            abbreviation=row.abbreviation,
            address=row.address,
            phone=row.phone,
            email=row.email,
            website=row.website,
            seal_image=_image(row.seal_sha256, row.seal_size),
        )

    async def add(self, value: Agency) -> None:
        await self._session.execute(insert(agency).values(**_agency_values(value)))

    async def update(self, value: Agency) -> None:
        await self._session.execute(
            update(agency).where(agency.c.code == value.code).values(**_agency_values(value))
        )


def _agency_values(value: Agency) -> dict[str, object]:
    return {
        "code": value.code,
        "name": value.name,
        "abbreviation": value.abbreviation,
        "address": value.address,
        "phone": value.phone,
        "email": value.email,
        "website": value.website,
        "seal_sha256": value.seal_image.sha256 if value.seal_image else None,
        "seal_size": value.seal_image.size if value.seal_image else None,
    }


def _unit(row: Any) -> Unit:
    return Unit(
        code=row.code,
        name=row.name,
        abbreviation=row.abbreviation,
        parent_code=row.parent_code,
        head_person_id=row.head_person_id,
        deputy_person_ids=tuple(row.deputy_person_ids),
    )


def _unit_values(unit: Unit) -> dict[str, object]:
    return {
        "code": unit.code,
        "name": unit.name,
        "abbreviation": unit.abbreviation,
        "parent_code": unit.parent_code,
        "head_person_id": unit.head_person_id,
        "deputy_person_ids": list(unit.deputy_person_ids),
    }


class SqlUnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_tree(self, *, shared: bool = False) -> None:
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await self._session.execute(text(f"SELECT {function}(:key)"), {"key": _TREE_LOCK})

    async def get(self, code: str, *, lock: bool = False) -> Unit | None:
        query = select(units).where(units.c.code == code)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return _unit(row) if row else None

    async def list_all(self) -> list[Unit]:
        rows = await self._session.execute(select(units).order_by(units.c.code))
        return [_unit(row) for row in rows]

    async def existing_codes(self, codes: Iterable[str]) -> set[str]:
        wanted = list(set(codes))
        if not wanted:
            return set()
        rows = await self._session.execute(select(units.c.code).where(units.c.code.in_(wanted)))
        return set(rows.scalars())

    async def add_if_absent(self, unit: Unit) -> bool:
        statement = (
            pg_insert(units)
            .values(**_unit_values(unit))
            .on_conflict_do_nothing(index_elements=[units.c.code])
            .returning(units.c.code)
        )
        return (await self._session.execute(statement)).first() is not None

    async def update(self, unit: Unit) -> None:
        await self._session.execute(
            update(units).where(units.c.code == unit.code).values(**_unit_values(unit))
        )

    async def delete(self, code: str) -> None:
        await self._session.execute(delete(units).where(units.c.code == code))

    async def child_codes(self, code: str) -> list[str]:
        rows = await self._session.execute(
            select(units.c.code).where(units.c.parent_code == code).order_by(units.c.code)
        )
        return list(rows.scalars())


class SqlPeopleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_absent(self, person: Person, *, password_hash: str) -> bool:
        statement = (
            pg_insert(people)
            .values(**_person_values(person), password_hash=password_hash)
            # Any unique column: username, e-mail or external subject.
            .on_conflict_do_nothing()
            .returning(people.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def add_many(self, entries: Sequence[tuple[Person, str]]) -> None:
        if not entries:
            return
        rows = [
            {**_person_values(person), "password_hash": password_hash}
            for person, password_hash in entries
        ]
        try:
            await self._session.execute(insert(people), rows)
        except IntegrityError:
            raise AlreadyExistsError(
                "a username or e-mail of the import was taken meanwhile; nothing was imported",
                reason="PERSON_EXISTS",
            ) from None

    async def taken_usernames(self, usernames: Iterable[str]) -> set[str]:
        return await self._taken(people.c.username, usernames)

    async def taken_emails(self, emails: Iterable[str]) -> set[str]:
        return await self._taken(people.c.email, emails)

    async def _taken(self, column: Any, values: Iterable[str]) -> set[str]:
        wanted = list(set(values))
        taken: set[str] = set()
        # In slices, to stay far below the driver's limit on bound parameters.
        for start in range(0, len(wanted), 5000):
            rows = await self._session.execute(
                select(column).where(column.in_(wanted[start : start + 5000]))
            )
            taken.update(rows.scalars())
        return taken

    async def update(self, person: Person) -> None:
        values = _person_values(person)
        del values["id"], values["created_at"]
        try:
            await self._session.execute(
                update(people).where(people.c.id == person.id).values(**values)
            )
        except IntegrityError:
            raise AlreadyExistsError(
                "the username, e-mail or external subject was taken meanwhile",
                reason="PERSON_EXISTS",
            ) from None

    async def get(self, person_id: str, *, lock: bool = False) -> Person | None:
        query = select(*_PERSON_COLUMNS).where(people.c.id == person_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return _person(row) if row else None

    async def get_by_email(self, email: str) -> Person | None:
        row = (
            await self._session.execute(select(*_PERSON_COLUMNS).where(people.c.email == email))
        ).first()
        return _person(row) if row else None

    async def get_by_external_subject(self, subject: str) -> Person | None:
        row = (
            await self._session.execute(
                select(*_PERSON_COLUMNS).where(people.c.external_subject == subject)
            )
        ).first()
        return _person(row) if row else None

    async def count_active_admins(self) -> int:
        count = await self._session.execute(
            select(func.count()).where(
                people.c.active.is_(True), people.c.roles.contains([Role.ADMIN.value])
            )
        )
        return int(count.scalar_one())

    async def set_password(
        self, person_id: str, *, password_hash: str, must_change: bool, session_version: int
    ) -> None:
        await self._session.execute(
            update(people)
            .where(people.c.id == person_id)
            .values(
                password_hash=password_hash,
                password_must_change=must_change,
                session_version=session_version,
            )
        )

    async def get_by_username(self, username: str) -> Person | None:
        row = (
            await self._session.execute(
                select(*_PERSON_COLUMNS).where(people.c.username == username)
            )
        ).first()
        return _person(row) if row else None

    async def get_many(self, person_ids: Iterable[str]) -> dict[str, Person]:
        wanted = list(set(person_ids))
        if not wanted:
            return {}
        rows = await self._session.execute(select(*_PERSON_COLUMNS).where(people.c.id.in_(wanted)))
        return {row.id: _person(row) for row in rows}

    async def member_usernames(self, unit_code: str, *, limit: int) -> list[str]:
        rows = await self._session.execute(
            select(people.c.username)
            .where(people.c.unit_codes.contains([unit_code]))
            .order_by(people.c.username)
            .limit(limit)
        )
        return list(rows.scalars())

    async def count_members(self, unit_code: str) -> int:
        count = await self._session.execute(
            select(func.count()).where(people.c.unit_codes.contains([unit_code]))
        )
        return int(count.scalar_one())

    async def credentials(self, username: str) -> Credentials | None:
        row = (
            await self._session.execute(
                select(*_PERSON_COLUMNS, people.c.password_hash).where(
                    people.c.username == username
                )
            )
        ).first()
        if row is None:
            return None
        return Credentials(person=_person(row), password_hash=row.password_hash)

    async def credentials_by_id(self, person_id: str, *, lock: bool = False) -> Credentials | None:
        query = select(*_PERSON_COLUMNS, people.c.password_hash).where(people.c.id == person_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        return Credentials(person=_person(row), password_hash=row.password_hash)

    async def set_password_hash(self, person_id: str, password_hash: str) -> None:
        await self._session.execute(
            update(people).where(people.c.id == person_id).values(password_hash=password_hash)
        )

    async def list_active(
        self, *, role: Role | None, after_username: str | None, limit: int
    ) -> list[Person]:
        query = select(*_PERSON_COLUMNS).where(people.c.active.is_(True))
        if role is not None:
            query = query.where(people.c.roles.contains([role.value]))
        if after_username is not None:
            query = query.where(people.c.username > after_username)
        rows = await self._session.execute(query.order_by(people.c.username).limit(limit))
        return [_person(row) for row in rows]


def _delegation(row: Any) -> Delegation:
    return Delegation(
        id=row.id,
        from_person_id=row.from_person_id,
        to_person_id=row.to_person_id,
        scope=frozenset(row.scope),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        revoke_reason=row.revoke_reason,
    )


class SqlDelegationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_delegator(self, person_id: str) -> None:
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(:kind, hashtext(:person))"),
            {"kind": _DELEGATOR_LOCK, "person": person_id},
        )

    async def add(self, delegation: Delegation) -> None:
        await self._session.execute(
            insert(delegations).values(
                id=delegation.id,
                from_person_id=delegation.from_person_id,
                to_person_id=delegation.to_person_id,
                scope=sorted(delegation.scope),
                starts_at=delegation.starts_at,
                ends_at=delegation.ends_at,
                reason=delegation.reason,
                created_at=delegation.created_at,
                created_by=delegation.created_by,
            )
        )

    async def get(self, delegation_id: str, *, lock: bool = False) -> Delegation | None:
        query = select(delegations).where(delegations.c.id == delegation_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return _delegation(row) if row else None

    async def revoke(self, delegation: Delegation) -> None:
        await self._session.execute(
            update(delegations)
            .where(delegations.c.id == delegation.id)
            .values(
                revoked_at=delegation.revoked_at,
                revoked_by=delegation.revoked_by,
                revoke_reason=delegation.revoke_reason,
            )
        )

    async def not_revoked_between(
        self, person_id: str, *, starts_at: datetime, ends_at: datetime
    ) -> list[Delegation]:
        rows = await self._session.execute(
            select(delegations)
            .where(
                delegations.c.from_person_id == person_id,
                delegations.c.revoked_at.is_(None),
                delegations.c.starts_at < ends_at,
                delegations.c.ends_at > starts_at,
            )
            .order_by(delegations.c.starts_at, delegations.c.id)
        )
        return [_delegation(row) for row in rows]

    async def open_involving(self, person_id: str, *, now: datetime) -> list[Delegation]:
        rows = await self._session.execute(
            select(delegations)
            .where(
                or_(
                    delegations.c.from_person_id == person_id,
                    delegations.c.to_person_id == person_id,
                ),
                delegations.c.revoked_at.is_(None),
                delegations.c.ends_at > now,
            )
            .order_by(delegations.c.starts_at, delegations.c.id)
            .with_for_update()
        )
        return [_delegation(row) for row in rows]

    async def list(
        self,
        *,
        person_id: str | None,
        active_at: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Delegation]:
        query = select(delegations)
        if person_id is not None:
            query = query.where(
                or_(
                    delegations.c.from_person_id == person_id,
                    delegations.c.to_person_id == person_id,
                )
            )
        if active_at is not None:
            query = query.where(
                delegations.c.starts_at <= active_at,
                delegations.c.ends_at > active_at,
                or_(delegations.c.revoked_at.is_(None), delegations.c.revoked_at > active_at),
            )
        if after is not None:
            query = query.where(tuple_(delegations.c.starts_at, delegations.c.id) > after)
        rows = await self._session.execute(
            query.order_by(delegations.c.starts_at, delegations.c.id).limit(limit)
        )
        return [_delegation(row) for row in rows]
