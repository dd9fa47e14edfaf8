"""What the directory's use cases need from the outside, as protocols the adapters implement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vanban.directory.domain.model import Agency, Person, Role


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

    async def verify(self, password_hash: str, password: str) -> bool:
        """True only when `password` matches; a malformed hash is a mismatch."""

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with parameters weaker than the current ones."""


class AgencyRepository(Protocol):
    async def get(self) -> Agency | None:
        """The agency this directory serves; there is at most one."""

    async def add(self, agency: Agency) -> None: ...


class PeopleRepository(Protocol):
    async def add_if_absent(self, person: Person, *, password_hash: str) -> bool:
        """Adds `person` unless the username is taken; True when it was added."""

    async def get(self, person_id: str) -> Person | None: ...

    async def get_by_username(self, username: str) -> Person | None: ...

    async def credentials(self, username: str) -> Credentials | None: ...

    async def set_password_hash(self, person_id: str, password_hash: str) -> None: ...

    async def list_active(
        self, *, role: Role | None, after_username: str | None, limit: int
    ) -> list[Person]:
        """Active people ordered by username, strictly after `after_username` when given."""


class Transaction(Protocol):
    """The unit of work as the domain sees it."""

    agency: AgencyRepository
    people: PeopleRepository

    def record_person_upserted(self, person: Person) -> None: ...

    def audit(
        self,
        *,
        action: str,
        resource: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> None: ...

    async def commit(self) -> None: ...
