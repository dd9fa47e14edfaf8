"""Use case of the bulk import of people: all of a file, or none of it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from vanban.directory.domain.access import require_admin
from vanban.directory.domain.events import PersonUpserted
from vanban.directory.domain.model import Person
from vanban.directory.domain.people_import import (
    MAX_IMPORT_BYTES,
    ImportFormat,
    ImportLine,
    ImportProblem,
    Sheet,
    check_against_directory,
    read_people,
    sorted_problems,
)
from vanban.directory.domain.person_service import person_summary
from vanban.directory.domain.ports import PasswordHasher, Transaction, Transactions
from vanban.platform.caller import Caller
from vanban.platform.errors import invalid_fields

# Password hashes computed at once: argon2 is CPU- and memory-bound, more buys nothing.
HASH_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int
    problems: tuple[ImportProblem, ...]
    imported: int
    dry_run: bool


async def import_people(
    *,
    transactions: Transactions,
    caller: Caller,
    hasher: PasswordHasher,
    file_format: ImportFormat,
    content: bytes,
    dry_run: bool,
    now: datetime,
) -> ImportReport:
    """Checks every line of the file and, unless there is any problem or this is a dry run,
    creates every person in one transaction with one `person.upserted` event each.

    Passwords are hashed between the check and the write, outside any transaction, so a
    large file holds no database connection meanwhile; the write checks the directory again.
    A line without a password gets a random one its owner has to replace.
    """
    require_admin(caller)
    if len(content) > MAX_IMPORT_BYTES:
        raise invalid_fields(
            {"content": f"is {len(content)} bytes; at most {MAX_IMPORT_BYTES} (5 MiB)"},
            reason="IMPORT_TOO_LARGE",
        )
    sheet = read_people(file_format, content)
    async with transactions() as tx:
        problems = [*sheet.problems, *await _against_directory(tx, sheet)]
    if problems or dry_run:
        return ImportReport(
            rows=sheet.rows, problems=sorted_problems(problems), imported=0, dry_run=dry_run
        )
    hashes = await _hash_passwords(hasher, sheet.lines)
    async with transactions() as tx:
        await tx.units.lock_tree(shared=True)
        # The directory may have changed while the passwords were hashed.
        late = await _against_directory(tx, sheet)
        if late:
            return ImportReport(
                rows=sheet.rows, problems=sorted_problems(late), imported=0, dry_run=False
            )
        people = [_person(line, now=now) for line in sheet.lines]
        await tx.people.add_many(list(zip(people, hashes, strict=True)))
        for person in people:
            tx.record(PersonUpserted(person=person, occurred_at=now))
            tx.audit(
                action="person.create",
                resource=f"people/{person.id}",
                after={**person_summary(person), "source": f"import ({file_format.value})"},
            )
        tx.audit(
            action="people.import",
            resource="people",
            after={"format": file_format.value, "rows": sheet.rows, "imported": len(people)},
        )
        await tx.commit()
    return ImportReport(rows=sheet.rows, problems=(), imported=len(people), dry_run=False)


async def _against_directory(tx: Transaction, sheet: Sheet) -> list[ImportProblem]:
    return check_against_directory(
        sheet,
        taken_usernames=await tx.people.taken_usernames(sheet.usernames),
        taken_emails=await tx.people.taken_emails(sheet.emails),
        known_units=await tx.units.existing_codes(sheet.unit_codes),
    )


async def _hash_passwords(hasher: PasswordHasher, lines: Sequence[ImportLine]) -> list[str]:
    limit = asyncio.Semaphore(HASH_CONCURRENCY)

    async def one(line: ImportLine) -> str:
        async with limit:
            if line.password is None:
                return await hasher.hash_random()
            return await hasher.hash(line.password)

    return list(await asyncio.gather(*(one(line) for line in lines)))


def _person(line: ImportLine, *, now: datetime) -> Person:
    draft = line.draft
    return Person(
        id=str(uuid.uuid4()),
        username=draft.username,
        full_name=draft.full_name,
        position_title=draft.position_title,
        roles=frozenset(draft.roles),
        unit_codes=tuple(draft.unit_codes),
        clearance=draft.clearance,
        active=True,
        created_at=now,
        email=draft.email,
        # Nobody knows a random password: its owner has to have it reset.
        password_must_change=line.password is None,
    )
