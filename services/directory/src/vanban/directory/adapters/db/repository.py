from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.directory.adapters.db.tables import agency, people
from vanban.directory.domain.model import Agency, Clearance, Person, Role
from vanban.directory.domain.ports import Credentials

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
)


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
    )


class SqlAgencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self) -> Agency | None:
        row = (await self._session.execute(select(agency).limit(1))).first()
        if row is None:
            return None
        return Agency(code=row.code, name=row.name, abbreviation=row.abbreviation)

    async def add(self, value: Agency) -> None:
        await self._session.execute(
            insert(agency).values(code=value.code, name=value.name, abbreviation=value.abbreviation)
        )


class SqlPeopleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_absent(self, person: Person, *, password_hash: str) -> bool:
        statement = (
            pg_insert(people)
            .values(
                id=person.id,
                username=person.username,
                full_name=person.full_name,
                position_title=person.position_title,
                password_hash=password_hash,
                roles=sorted(role.value for role in person.roles),
                unit_codes=list(person.unit_codes),
                clearance=person.clearance.value,
                active=person.active,
                created_at=person.created_at,
            )
            .on_conflict_do_nothing(index_elements=[people.c.username])
            .returning(people.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def get(self, person_id: str) -> Person | None:
        row = (
            await self._session.execute(select(*_PERSON_COLUMNS).where(people.c.id == person_id))
        ).first()
        return _person(row) if row else None

    async def get_by_username(self, username: str) -> Person | None:
        row = (
            await self._session.execute(
                select(*_PERSON_COLUMNS).where(people.c.username == username)
            )
        ).first()
        return _person(row) if row else None

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
