"""What the directory's use cases need from the outside, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from vanban.directory.domain.delegation import Delegation
from vanban.directory.domain.events import DirectoryEvent
from vanban.directory.domain.model import Agency, ImageRef, Person, Role
from vanban.directory.domain.unit import Unit
from vanban.platform.ports import TransactionPort


@dataclass(frozen=True, slots=True)
class Credentials:
    """A person together with the stored hash of their password."""

    person: Person
    password_hash: str


class PasswordHasher(Protocol):
    """Slow, salted password hashing (argon2id in production)."""

    @property
    def dummy_hash(self) -> str:
        """A hash of a secret nobody knows, made with the current parameters.

        Checking a password against it costs what checking a real one costs, so an unknown
        username cannot be told apart from a wrong password by the time the answer takes.
        """

    async def hash(self, password: str) -> str: ...

    async def hash_random(self) -> str:
        """The hash of a fresh random password that nobody is told: the account cannot be
        signed in to until its password is set again. The secret has so much entropy that it
        may be hashed cheaply, which keeps a bulk import fast."""

    async def verify(self, password_hash: str, password: str) -> bool:
        """True only when `password` matches; a malformed hash is a mismatch."""

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with parameters weaker than the current ones."""


class AgencyRepository(Protocol):
    async def get(self, *, lock: bool = False) -> Agency | None:
        """The agency this directory serves; there is at most one. `lock` holds its row until
        the transaction ends, so read-modify-write never loses a concurrent change."""

    async def add(self, agency: Agency) -> None: ...

    async def update(self, agency: Agency) -> None:
        """Stores the profile of the agency with `agency.code`."""


class UnitRepository(Protocol):
    async def lock_tree(self, *, shared: bool = False) -> None:
        """Holds the tree still until the transaction ends.

        Exclusive for changes of shape (moving or deleting a unit), shared for changes that
        only rely on units existing (a person's memberships), so a deletion can never slip
        between checking a unit and referring to it.
        """

    async def get(self, code: str, *, lock: bool = False) -> Unit | None: ...

    async def list_all(self) -> list[Unit]: ...

    async def existing_codes(self, codes: Iterable[str]) -> set[str]:
        """Those of `codes` that name a unit."""

    async def add_if_absent(self, unit: Unit) -> bool:
        """Adds `unit` unless its code is taken; True when it was added."""

    async def update(self, unit: Unit) -> None: ...

    async def delete(self, code: str) -> None: ...

    async def child_codes(self, code: str) -> list[str]: ...


class PeopleRepository(Protocol):
    async def add_if_absent(self, person: Person, *, password_hash: str) -> bool:
        """Adds `person` unless its username, e-mail or external subject is taken; True when
        it was added."""

    async def update(self, person: Person) -> None:
        """Stores every field of `person` but its password; raises AlreadyExistsError when the
        username, e-mail or external subject has been taken meanwhile."""

    async def get(self, person_id: str, *, lock: bool = False) -> Person | None: ...

    async def get_by_username(self, username: str) -> Person | None: ...

    async def add_many(self, people: Sequence[tuple[Person, str]]) -> None:
        """Inserts people with their password hashes; raises AlreadyExistsError when any
        username or e-mail is taken (and then none is kept: the transaction is spoilt)."""

    async def taken_usernames(self, usernames: Iterable[str]) -> set[str]:
        """Those of `usernames` that some person has."""

    async def taken_emails(self, emails: Iterable[str]) -> set[str]:
        """Those of `emails` that some person has."""

    async def get_by_email(self, email: str) -> Person | None: ...

    async def get_by_external_subject(self, subject: str) -> Person | None: ...

    async def count_active_admins(self) -> int: ...

    async def get_many(self, person_ids: Iterable[str]) -> dict[str, Person]:
        """The people among `person_ids` that exist, by id."""

    async def member_usernames(self, unit_code: str, *, limit: int) -> list[str]:
        """Usernames of people (active or not) who belong to the unit, at most `limit`."""

    async def count_members(self, unit_code: str) -> int: ...

    async def credentials(self, username: str) -> Credentials | None: ...

    async def credentials_by_id(self, person_id: str, *, lock: bool = False) -> Credentials | None:
        """The person and their password hash, optionally locked until the transaction ends."""

    async def set_password_hash(self, person_id: str, password_hash: str) -> None:
        """Replaces the hash of the same password (a rehash); the must-change mark stays."""

    async def set_password(
        self, person_id: str, *, password_hash: str, must_change: bool, session_version: int
    ) -> None:
        """Sets a new password, whether its owner must replace it at next sign-in, and the
        session version that voids the tokens issued before."""

    async def list_active(
        self, *, role: Role | None, after_username: str | None, limit: int
    ) -> list[Person]:
        """Active people ordered by username, strictly after `after_username` when given."""


class DelegationRepository(Protocol):
    async def lock_delegator(self, person_id: str) -> None:
        """Serialises the creation of one person's delegations until the transaction ends, so
        two overlapping ones cannot both pass the check."""

    async def add(self, delegation: Delegation) -> None: ...

    async def get(self, delegation_id: str, *, lock: bool = False) -> Delegation | None: ...

    async def revoke(self, delegation: Delegation) -> None:
        """Stores the revocation fields of `delegation`."""

    async def not_revoked_between(
        self, person_id: str, *, starts_at: datetime, ends_at: datetime
    ) -> list[Delegation]:
        """`person_id`'s unrevoked delegations in force at some moment of [starts_at, ends_at)."""

    async def open_involving(self, person_id: str, *, now: datetime) -> list[Delegation]:
        """Unrevoked delegations from or to the person that have not ended by `now`."""

    async def list(
        self,
        *,
        person_id: str | None,
        active_at: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Delegation]:
        """Delegations from or to `person_id` (everyone's when None), only those active at
        `active_at` when given, ordered by (starts_at, id), strictly after `after`."""


class Transaction(TransactionPort, Protocol):
    """The unit of work as the domain sees it."""

    @property
    def agency(self) -> AgencyRepository: ...

    @property
    def units(self) -> UnitRepository: ...

    @property
    def people(self) -> PeopleRepository: ...

    @property
    def delegations(self) -> DelegationRepository: ...

    def record(self, event: DirectoryEvent) -> None:
        """Queues the event; it is published only if the transaction commits."""


Transactions = Callable[[], AbstractAsyncContextManager[Transaction]]
"""Opens one transaction per use: for use cases that call out (to the archive) between
reading and writing, so no database transaction is held open across the call."""


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image the archive holds for this upload until an event refers to it, or it is
    released."""

    ref: ImageRef
    upload_id: str


class ObjectStore(Protocol):
    """Where the bytes of images go: the archive service, which keeps them by content hash."""

    async def put(self, data: bytes, *, content_type: str, file_name: str) -> StoredImage: ...

    async def release(self, upload_id: str) -> None:
        """Gives back an upload nothing will refer to, so that the archive deletes the bytes
        now (unless others hold them). Never raises: what it cannot give back expires."""
