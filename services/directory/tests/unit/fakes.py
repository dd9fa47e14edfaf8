"""In-memory fakes of the directory's ports, and factories with sensible defaults."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from vanban.directory.domain.delegation import Delegation, DelegationDraft
from vanban.directory.domain.events import DirectoryEvent
from vanban.directory.domain.model import (
    Agency,
    ImageRef,
    Person,
    PersonDraft,
    Role,
)
from vanban.directory.domain.ports import Credentials, StoredImage
from vanban.directory.domain.unit import Unit
from vanban.platform.caller import Caller
from vanban.platform.clearance import Clearance
from vanban.platform.fakes import RecordingTransaction

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
AGENCY = Agency(code="000.00.00.H99", name="Ủy ban nhân dân tỉnh Demo", abbreviation="UBND")
PASSWORD = "mat-khau-ban-dau"
ADMIN = Caller(agency_code=AGENCY.code, subject="admin-1", roles=frozenset({"admin"}))
SERVICE = Caller(agency_code=AGENCY.code, subject="service:gateway", is_service=True)


def person_caller(subject: str = "person-1", *roles: str) -> Caller:
    return Caller(agency_code=AGENCY.code, subject=subject, roles=frozenset(roles or ("clerk",)))


def make_draft(**overrides: object) -> PersonDraft:
    fields: dict[str, Any] = {
        "username": "vanthu",
        "full_name": "Nguyễn Thị Văn Thư",
        "position_title": "Văn thư",
        "roles": (Role.CLERK,),
        "unit_codes": ("VP",),
        "clearance": Clearance.CONFIDENTIAL,
    }
    fields.update(overrides)
    return PersonDraft(**fields)


def make_person(**overrides: object) -> Person:
    fields: dict[str, Any] = {
        "id": secrets.token_hex(8),
        "username": "vanthu",
        "full_name": "Nguyễn Thị Văn Thư",
        "position_title": "Văn thư",
        "roles": frozenset({Role.CLERK}),
        "unit_codes": (),
        "clearance": Clearance.NONE,
        "active": True,
        "created_at": NOW,
    }
    fields.update(overrides)
    return Person(**fields)


def make_delegation_draft(**overrides: object) -> DelegationDraft:
    fields: dict[str, Any] = {
        "from_person_id": "lanhdao",
        "to_person_id": "phochutich",
        "scope": ("sign", "approve"),
        "starts_at": NOW,
        "ends_at": NOW + timedelta(days=7),
        "reason": "Chủ tịch đi công tác nước ngoài",
    }
    fields.update(overrides)
    return DelegationDraft(**fields)


def make_delegation(**overrides: object) -> Delegation:
    fields: dict[str, Any] = {
        "id": "d-1",
        "from_person_id": "lanhdao",
        "to_person_id": "phochutich",
        "scope": frozenset({"sign"}),
        "starts_at": NOW,
        "ends_at": NOW + timedelta(days=7),
        "reason": "Đi công tác",
        "created_at": NOW,
        "created_by": "lanhdao",
    }
    fields.update(overrides)
    return Delegation(**fields)


def make_png(width: int = 4, height: int = 2, rgba: bytes = b"\x00\x00\xff\x80") -> bytes:
    """A real PNG of one colour (blue, half transparent by default)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + rgba * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class FakeStore:
    """Keeps images by hash, as the archive does; can be told to fail."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str, str]] = {}
        self.failure: Exception | None = None
        self.uploads: dict[str, str] = {}  # upload id -> sha256, while held
        self.released: list[str] = []
        # Runs between the upload and the directory's second look, as another request might.
        self.after_put: Callable[[], None] | None = None

    async def put(self, data: bytes, *, content_type: str, file_name: str) -> StoredImage:
        if self.failure is not None:
            raise self.failure
        sha = hashlib.sha256(data).hexdigest()
        self.objects[sha] = (data, content_type, file_name)
        upload_id = f"upload-{len(self.uploads) + len(self.released) + 1}"
        self.uploads[upload_id] = sha
        if self.after_put is not None:
            self.after_put()
        return StoredImage(ref=ImageRef(sha256=sha, size=len(data)), upload_id=upload_id)

    async def release(self, upload_id: str) -> None:
        sha = self.uploads.pop(upload_id)
        self.released.append(upload_id)
        if sha not in self.uploads.values():
            del self.objects[sha]


class FakeHasher:
    """Reversible "hashing" that records which hashes were checked."""

    def __init__(self, *, outdated_prefix: str = "old:") -> None:
        self._dummy = f"h:{secrets.token_hex(8)}"
        self._outdated = outdated_prefix
        self.verified: list[str] = []
        self.hashed = 0

    @property
    def dummy_hash(self) -> str:
        return self._dummy

    async def hash(self, password: str) -> str:
        self.hashed += 1
        return f"h:{password}"

    async def hash_random(self) -> str:
        return f"h:random:{secrets.token_hex(8)}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return password_hash in (f"h:{password}", f"{self._outdated}{password}")

    def needs_rehash(self, password_hash: str) -> bool:
        return password_hash.startswith(self._outdated)


class FakeAgencies:
    def __init__(self) -> None:
        self.value: Agency | None = None

    async def get(self, *, lock: bool = False) -> Agency | None:
        return self.value

    async def add(self, agency: Agency) -> None:
        assert self.value is None
        self.value = agency

    async def update(self, agency: Agency) -> None:
        assert self.value is not None and self.value.code == agency.code
        self.value = agency


class FakeUnits:
    def __init__(self, units: Iterable[Unit] = ()) -> None:
        self.rows: dict[str, Unit] = {unit.code: unit for unit in units}
        self.locks: list[str] = []

    async def lock_tree(self, *, shared: bool = False) -> None:
        self.locks.append("shared" if shared else "exclusive")

    async def get(self, code: str, *, lock: bool = False) -> Unit | None:
        return self.rows.get(code)

    async def list_all(self) -> list[Unit]:
        return sorted(self.rows.values(), key=lambda u: u.code)

    async def existing_codes(self, codes: Iterable[str]) -> set[str]:
        return set(codes) & set(self.rows)

    async def add_if_absent(self, unit: Unit) -> bool:
        if unit.code in self.rows:
            return False
        self.rows[unit.code] = unit
        return True

    async def update(self, unit: Unit) -> None:
        assert unit.code in self.rows
        self.rows[unit.code] = unit

    async def delete(self, code: str) -> None:
        del self.rows[code]

    async def child_codes(self, code: str) -> list[str]:
        return sorted(u.code for u in self.rows.values() if u.parent_code == code)


class FakePeople:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[Person, str]] = {}

    async def add_if_absent(self, person: Person, *, password_hash: str) -> bool:
        if any(
            p.username == person.username
            or (person.email and p.email == person.email)
            or (person.external_subject and p.external_subject == person.external_subject)
            for p, _ in self.rows.values()
        ):
            return False
        self.rows[person.id] = (person, password_hash)
        return True

    async def update(self, person: Person) -> None:
        _, password_hash = self.rows[person.id]
        self.rows[person.id] = (person, password_hash)

    async def get(self, person_id: str, *, lock: bool = False) -> Person | None:
        row = self.rows.get(person_id)
        return row[0] if row else None

    async def get_by_email(self, email: str) -> Person | None:
        return next((p for p, _ in self.rows.values() if p.email == email), None)

    async def get_by_external_subject(self, subject: str) -> Person | None:
        return next((p for p, _ in self.rows.values() if p.external_subject == subject), None)

    async def count_active_admins(self) -> int:
        return sum(1 for p, _ in self.rows.values() if p.active and Role.ADMIN in p.roles)

    async def set_password(
        self, person_id: str, *, password_hash: str, must_change: bool, session_version: int
    ) -> None:
        person, _ = self.rows[person_id]
        self.rows[person_id] = (
            replace(person, password_must_change=must_change, session_version=session_version),
            password_hash,
        )

    def password_hash(self, person_id: str) -> str:
        return self.rows[person_id][1]

    async def get_by_username(self, username: str) -> Person | None:
        found = await self.credentials(username)
        return found.person if found else None

    async def add_many(self, entries: Sequence[tuple[Person, str]]) -> None:
        for person, password_hash in entries:
            assert await self.add_if_absent(person, password_hash=password_hash)

    async def taken_usernames(self, usernames: Iterable[str]) -> set[str]:
        return set(usernames) & {p.username for p, _ in self.rows.values()}

    async def taken_emails(self, emails: Iterable[str]) -> set[str]:
        return set(emails) & {p.email for p, _ in self.rows.values() if p.email}

    async def get_many(self, person_ids: Iterable[str]) -> dict[str, Person]:
        return {i: self.rows[i][0] for i in set(person_ids) if i in self.rows}

    async def member_usernames(self, unit_code: str, *, limit: int) -> list[str]:
        return sorted(p.username for p, _ in self.rows.values() if unit_code in p.unit_codes)[
            :limit
        ]

    async def count_members(self, unit_code: str) -> int:
        return sum(1 for p, _ in self.rows.values() if unit_code in p.unit_codes)

    async def credentials(self, username: str) -> Credentials | None:
        for person, password_hash in self.rows.values():
            if person.username == username:
                return Credentials(person=person, password_hash=password_hash)
        return None

    async def credentials_by_id(self, person_id: str, *, lock: bool = False) -> Credentials | None:
        row = self.rows.get(person_id)
        return Credentials(person=row[0], password_hash=row[1]) if row else None

    async def set_password_hash(self, person_id: str, password_hash: str) -> None:
        person, _ = self.rows[person_id]
        self.rows[person_id] = (person, password_hash)

    async def list_active(
        self, *, role: Role | None, after_username: str | None, limit: int
    ) -> list[Person]:
        people = sorted(
            (p for p, _ in self.rows.values() if p.active and (role is None or role in p.roles)),
            key=lambda p: p.username,
        )
        if after_username is not None:
            people = [p for p in people if p.username > after_username]
        return people[:limit]

    def put(self, person: Person, password_hash: str = "h:x") -> Person:
        self.rows[person.id] = (person, password_hash)
        return person

    def deactivate(self, username: str) -> None:
        for person_id, (person, password_hash) in self.rows.items():
            if person.username == username:
                self.rows[person_id] = (replace(person, active=False), password_hash)


class FakeDelegations:
    def __init__(self) -> None:
        self.rows: dict[str, Delegation] = {}
        self.locked: list[str] = []

    async def lock_delegator(self, person_id: str) -> None:
        self.locked.append(person_id)

    async def add(self, delegation: Delegation) -> None:
        assert delegation.id not in self.rows
        self.rows[delegation.id] = delegation

    async def get(self, delegation_id: str, *, lock: bool = False) -> Delegation | None:
        return self.rows.get(delegation_id)

    async def revoke(self, delegation: Delegation) -> None:
        assert delegation.id in self.rows
        self.rows[delegation.id] = delegation

    async def not_revoked_between(
        self, person_id: str, *, starts_at: datetime, ends_at: datetime
    ) -> list[Delegation]:
        return sorted(
            (
                d
                for d in self.rows.values()
                if d.from_person_id == person_id
                and d.revoked_at is None
                and d.starts_at < ends_at
                and d.ends_at > starts_at
            ),
            key=lambda d: (d.starts_at, d.id),
        )

    async def open_involving(self, person_id: str, *, now: datetime) -> list[Delegation]:
        return sorted(
            (
                d
                for d in self.rows.values()
                if person_id in (d.from_person_id, d.to_person_id)
                and d.revoked_at is None
                and d.ends_at > now
            ),
            key=lambda d: (d.starts_at, d.id),
        )

    async def list(
        self,
        *,
        person_id: str | None,
        active_at: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Delegation]:
        found = sorted(
            (
                d
                for d in self.rows.values()
                if (person_id is None or person_id in (d.from_person_id, d.to_person_id))
                and (active_at is None or d.active_at(active_at))
                and (after is None or (d.starts_at, d.id) > after)
            ),
            key=lambda d: (d.starts_at, d.id),
        )
        return found[:limit]


@dataclass
class FakeTransaction(RecordingTransaction):
    agency: FakeAgencies = field(default_factory=FakeAgencies)
    units: FakeUnits = field(default_factory=FakeUnits)
    people: FakePeople = field(default_factory=FakePeople)
    delegations: FakeDelegations = field(default_factory=FakeDelegations)
    events: list[DirectoryEvent] = field(default_factory=list)
    _pending_events: list[DirectoryEvent] = field(default_factory=list)

    def record(self, event: DirectoryEvent) -> None:
        self._pending_events.append(event)

    async def commit(self) -> None:
        await super().commit()
        self.events.extend(self._pending_events)
        self._pending_events.clear()


def transactions_of(
    tx: FakeTransaction,
) -> Callable[[], contextlib.AbstractAsyncContextManager[FakeTransaction]]:
    """A `Transactions` factory that hands out the same fake every time."""

    @contextlib.asynccontextmanager
    async def open_transaction() -> AsyncIterator[FakeTransaction]:
        yield tx

    return open_transaction
