"""The sign-in use cases, driven through their ports with in-memory fakes: what is counted,
audited, kept or taken back for each outcome of the directory's password check."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from vanban.gateway.domain.ports import ApiKeyRepository
from vanban.gateway.domain.revocations import Revocations
from vanban.gateway.domain.sessions import (
    AccountLockedError,
    Failure,
    RefreshToken,
    RefreshTokenReusedError,
    SignInPolicy,
)
from vanban.gateway.domain.sign_in import SignInService, WrongPasswordError
from vanban.gateway.domain.throttle import PasswordCheckGate
from vanban.platform.errors import (
    ErrorCode,
    InvalidArgumentError,
    UnauthenticatedError,
    UnavailableError,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
POLICY = SignInPolicy(
    window=timedelta(minutes=15),
    max_failures=3,
    account_max_failures=5,
    address_max_failures=4,
    known_for=timedelta(days=30),
)
REFRESH_TTL = timedelta(hours=12)
PASSWORD = "Mật-khẩu-đúng-1"
CALLER = (("x-vanban-caller", "caller-token"),)


@dataclass(frozen=True)
class Client:
    ip: str
    key: str


OFFICE = Client("192.0.2.10", "192.0.2.10")
STRANGER = Client("198.51.100.66", "198.51.100.66")


# The gateway's database ------------------------------------------------------------------------


@dataclass
class State:
    failures: dict[int, tuple[str, str, datetime]] = field(default_factory=dict)
    next_failure: int = 1
    known: dict[tuple[str, str], datetime] = field(default_factory=dict)
    tokens: dict[str, RefreshToken] = field(default_factory=dict)
    revocation_log: list[tuple[str, ...]] = field(default_factory=list)
    audit: list[dict[str, object]] = field(default_factory=list)

    def failures_of(self, account: str) -> list[tuple[str, datetime]]:
        return sorted((addr, at) for acc, addr, at in self.failures.values() if acc == account)


class MemorySessions:
    def __init__(self, state: State) -> None:
        self.state = state

    async def lock_account(self, account: str) -> None:
        pass  # one transaction at a time here

    async def account_failures(self, account: str, *, since: datetime) -> list[Failure]:
        return [
            Failure(at, addr)
            for acc, addr, at in self.state.failures.values()
            if acc == account and at > since
        ]

    async def address_failures(self, address: str, *, since: datetime) -> list[datetime]:
        return [
            at for _, addr, at in self.state.failures.values() if addr == address and at > since
        ]

    async def record_failure(self, account: str, *, address: str, at: datetime) -> int:
        failure_id = self.state.next_failure
        self.state.next_failure += 1
        self.state.failures[failure_id] = (account, address, at)
        return failure_id

    async def forget_failure(self, failure_id: int) -> None:
        del self.state.failures[failure_id]

    async def clear_failures(self, account: str, *, address: str) -> None:
        self.state.failures = {
            n: f for n, f in self.state.failures.items() if (f[0], f[1]) != (account, address)
        }

    async def is_known_address(self, account: str, *, address: str, since: datetime) -> bool:
        seen = self.state.known.get((account, address))
        return seen is not None and seen > since

    async def remember_address(self, account: str, *, address: str, at: datetime) -> None:
        self.state.known[(account, address)] = at

    async def add_refresh_token(self, token: RefreshToken) -> None:
        self.state.tokens[token.id] = token

    async def refresh_token_for_update(self, token_id: str) -> RefreshToken | None:
        return self.state.tokens.get(token_id)

    async def mark_used(self, token_id: str, *, at: datetime) -> None:
        self.state.tokens[token_id] = replace(self.state.tokens[token_id], used_at=at)

    async def revoke_family(self, family_id: str, *, at: datetime) -> None:
        for token_id, token in self.state.tokens.items():
            if token.family_id == family_id and token.revoked_at is None:
                self.state.tokens[token_id] = replace(token, revoked_at=at)


class MemoryRevocationLog:
    def __init__(self, state: State) -> None:
        self.state = state

    async def end_sessions_below(self, person_id: str, version: int, *, at: datetime) -> bool:
        self.state.revocation_log.append(("person", person_id, str(version)))
        return True

    async def end_family(self, family_id: str, *, at: datetime) -> None:
        self.state.revocation_log.append(("family", family_id))


class MemoryTransaction:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._state = copy.deepcopy(db.state)
        self.sessions = MemorySessions(self._state)
        self.revocation_log = MemoryRevocationLog(self._state)

    @property
    def api_keys(self) -> ApiKeyRepository:
        raise AssertionError("signing in uses no API keys")

    def audit_as(
        self, *, actor: str, action: str, resource: str, after: dict[str, object] | None = None
    ) -> None:
        self._state.audit.append(
            {"actor": actor, "action": action, "resource": resource, "after": after}
        )

    async def commit(self) -> None:
        self._db.state = copy.deepcopy(self._state)


class MemoryDatabase:
    """Transactions see the committed state; what a transaction does not commit is lost."""

    def __init__(self) -> None:
        self.state = State()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        yield MemoryTransaction(self)

    @property
    def actions(self) -> list[object]:
        return [entry["action"] for entry in self.state.audit]


# The directory and the tokens --------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: str
    full_name: str
    session_version: int = 1
    password_must_change: bool = False
    active: bool = True


def wrong(reason: str, code: ErrorCode) -> WrongPasswordError:
    error = WrongPasswordError("wrong password", reason=reason)
    error.code = code
    return error


class FakeDirectory:
    def __init__(self, **people: tuple[str, Person]) -> None:
        self.people = dict(people)
        self.calls: list[str] = []
        self.unavailable = False
        self.db: MemoryDatabase | None = None
        # The failures already recorded when each check ran.
        self.failures_seen: list[int] = []

    def _check(self, call: str) -> None:
        self.calls.append(call)
        if self.db is not None:
            self.failures_seen.append(len(self.db.state.failures))
        if self.unavailable:
            raise UnavailableError("the directory is not answering")

    async def authenticate(self, *, username: str, password: str) -> Person:
        self._check(f"authenticate {username}")
        known = self.people.get(username.strip().lower())  # as the directory compares names
        if known is None or known[0] != password:
            raise wrong("BAD_CREDENTIALS", ErrorCode.UNAUTHENTICATED)
        return known[1]

    async def change_password(
        self, *, credentials: object, current_password: str, new_password: str
    ) -> Person:
        self._check("change_password")
        username = next(name for name, (_, p) in self.people.items() if p.id == "p-an")
        password, person = self.people[username]
        if current_password != password:
            raise wrong("WRONG_CURRENT_PASSWORD", ErrorCode.INVALID_ARGUMENT)
        changed = replace(person, session_version=person.session_version + 1)
        self.people[username] = (new_password, changed)
        return changed

    async def person(self, person_id: str) -> Person:
        self._check(f"person {person_id}")
        return next(p for _, p in self.people.values() if p.id == person_id)


@dataclass
class Issued:
    person_id: str
    session_version: int
    family_id: str
    must_change_password: bool


class FakeTokens:
    ttl = 900

    def __init__(self) -> None:
        self.issued: list[Issued] = []

    def issue(
        self, person: Person, *, session_version: int, family_id: str, must_change_password: bool
    ) -> str:
        self.issued.append(Issued(person.id, session_version, family_id, must_change_password))
        return f"access-{len(self.issued)}"


@dataclass
class World:
    db: MemoryDatabase
    directory: FakeDirectory
    tokens: FakeTokens
    revocations: Revocations
    service: SignInService[Person]
    clock: list[datetime]


def make_world(**people: tuple[str, Person]) -> World:
    db = MemoryDatabase()
    directory = FakeDirectory(**(people or {"an": (PASSWORD, Person("p-an", "Nguyễn Văn An"))}))
    directory.db = db
    tokens = FakeTokens()
    revocations = Revocations(keep=timedelta(minutes=16))
    clock = [NOW]
    service = SignInService(
        transactions=db.transaction,
        directory=directory,
        tokens=tokens,
        password_checks=PasswordCheckGate(
            total=2, per_address=1, waiting_per_address=1, wait_seconds=0.5
        ),
        policy=POLICY,
        revocations=revocations,
        refresh_ttl=REFRESH_TTL,
        clock=lambda: clock[0],
    )
    return World(db, directory, tokens, revocations, service, clock)


def fail(world: World, account: str, client: Client, *, minutes_ago: float = 1) -> None:
    state = world.db.state
    state.failures[state.next_failure] = (account, client.key, NOW - timedelta(minutes=minutes_ago))
    state.next_failure += 1


# Sign-in -----------------------------------------------------------------------------------------


async def test_the_right_password_opens_a_session_and_forgets_the_address_failures() -> None:
    world = make_world()
    fail(world, "an", OFFICE, minutes_ago=3)
    fail(world, "an", STRANGER, minutes_ago=2)

    session = await world.service.sign_in(username="An", password=PASSWORD, client=OFFICE)

    assert (session.access_token, session.expires_in) == ("access-1", 900)
    assert session.refresh_expires_in == 12 * 3600
    assert session.password_must_change is False
    state = world.db.state
    # The address that knew the password loses its failures; the stranger keeps theirs.
    assert state.failures_of("an") == [(STRANGER.key, NOW - timedelta(minutes=2))]
    assert state.known == {("an", OFFICE.key): NOW}
    [record] = state.tokens.values()
    token_id, _, secret = session.refresh_token.partition(".")
    assert record.id == token_id and record.person_id == "p-an"
    assert secret not in record.secret_hash  # only a hash is kept
    assert record.expires_at == NOW + REFRESH_TTL
    assert world.tokens.issued == [Issued("p-an", 1, record.family_id, False)]
    assert state.audit == [
        {
            "actor": "p-an",
            "action": "session.sign_in",
            "resource": f"sessions/{record.family_id}",
            "after": {"address": OFFICE.ip},
        }
    ]


async def test_a_wrong_password_is_counted_and_audited() -> None:
    world = make_world()

    with pytest.raises(WrongPasswordError) as refused:
        await world.service.sign_in(username="an", password="đoán-bừa", client=STRANGER)

    # The directory's answer goes out as it came.
    assert (refused.value.reason, refused.value.code) == (
        "BAD_CREDENTIALS",
        ErrorCode.UNAUTHENTICATED,
    )
    assert world.db.state.failures_of("an") == [(STRANGER.key, NOW)]
    assert world.db.state.audit == [
        {
            "actor": "user:an",
            "action": "session.sign_in_failed",
            "resource": "accounts/an",
            "after": {"address": STRANGER.ip},
        }
    ]
    assert world.db.state.tokens == {} and world.db.state.known == {}
    assert world.tokens.issued == []


async def test_the_failure_that_reaches_the_lock_is_audited_and_then_the_directory_is_not_asked() -> (
    None
):
    world = make_world()
    fail(world, "an", STRANGER, minutes_ago=10)
    fail(world, "an", STRANGER, minutes_ago=5)

    with pytest.raises(WrongPasswordError):
        await world.service.sign_in(username="an", password="đoán-bừa", client=STRANGER)
    assert world.db.actions == ["session.sign_in_failed", "session.locked"]
    assert world.db.state.audit[-1]["resource"] == "accounts/an"

    asked = list(world.directory.calls)
    before = copy.deepcopy(world.db.state)
    # Even the right password: this address is locked out of the account for now.
    with pytest.raises(AccountLockedError) as locked:
        await world.service.sign_in(username="an", password=PASSWORD, client=STRANGER)
    assert locked.value.metadata["retry_after_seconds"] == str(5 * 60)
    assert world.directory.calls == asked
    assert world.db.state == before  # a refused attempt writes nothing
    # The person, from anywhere else, signs in.
    await world.service.sign_in(username="an", password=PASSWORD, client=OFFICE)


async def test_the_failure_that_throttles_an_address_is_audited_against_the_address() -> None:
    world = make_world()
    for other in ("binh", "cuong", "dung"):
        fail(world, other, STRANGER)

    with pytest.raises(WrongPasswordError):
        await world.service.sign_in(username="an", password="đoán-bừa", client=STRANGER)

    seen_from = {"address": STRANGER.ip}
    assert world.db.state.audit == [
        {
            "actor": "user:an",
            "action": "session.sign_in_failed",
            "resource": "accounts/an",
            "after": seen_from,
        },
        {
            "actor": "user:an",
            "action": "session.address_throttled",
            "resource": f"addresses/{STRANGER.key}",
            "after": seen_from,
        },
    ]


async def test_a_check_the_directory_could_not_make_takes_its_failure_back() -> None:
    world = make_world()
    world.directory.unavailable = True

    with pytest.raises(UnavailableError):
        await world.service.sign_in(username="an", password=PASSWORD, client=OFFICE)

    # While the check ran the attempt stood as a failure (parallel guesses see it) ...
    assert world.directory.failures_seen == [1]
    # ... and it went once the check could not be made: nothing is held against the person.
    assert world.db.state.failures == {}
    assert world.db.state.audit == []
    assert world.db.state.tokens == {}


async def test_a_password_set_by_an_administrator_gives_a_session_that_must_change_it() -> None:
    world = make_world(
        an=(PASSWORD, Person("p-an", "Nguyễn Văn An", password_must_change=True)),
    )

    session = await world.service.sign_in(username="an", password=PASSWORD, client=OFFICE)

    assert session.password_must_change is True
    assert world.tokens.issued[-1].must_change_password is True


async def test_a_malformed_name_is_refused_before_anything_is_counted() -> None:
    world = make_world()

    with pytest.raises(InvalidArgumentError) as refused:
        await world.service.sign_in(username="  ", password=PASSWORD, client=OFFICE)

    assert refused.value.reason == "INVALID_CREDENTIALS_FORMAT"
    assert world.directory.calls == []
    assert world.db.state == State()


# Refresh and sign-out ----------------------------------------------------------------------------


async def test_a_refresh_rotates_the_token_and_a_reused_one_ends_the_session() -> None:
    world = make_world()
    first = await world.service.sign_in(username="an", password=PASSWORD, client=OFFICE)
    world.clock[0] = NOW + timedelta(minutes=10)

    second = await world.service.refresh(presented=first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert world.tokens.issued[-1].family_id == world.tokens.issued[0].family_id
    with pytest.raises(RefreshTokenReusedError):
        await world.service.refresh(presented=first.refresh_token)
    # The reuse was recorded, and the whole family is revoked, the successor too.
    assert world.db.actions[-1] == "session.refresh_reused"
    assert all(token.revoked_at is not None for token in world.db.state.tokens.values())
    with pytest.raises(UnauthenticatedError) as revoked:
        await world.service.refresh(presented=second.refresh_token)
    assert revoked.value.reason == "REFRESH_TOKEN_REVOKED"


async def test_a_refresh_after_the_person_changed_ends_the_session() -> None:
    world = make_world()
    session = await world.service.sign_in(username="an", password=PASSWORD, client=OFFICE)
    password, person = world.directory.people["an"]
    world.directory.people["an"] = (password, replace(person, session_version=2))

    with pytest.raises(UnauthenticatedError) as ended:
        await world.service.refresh(presented=session.refresh_token)

    assert ended.value.reason == "SESSION_ENDED"
    assert world.db.actions[-1] == "session.ended_by_directory"
    assert all(token.revoked_at is not None for token in world.db.state.tokens.values())


async def test_a_refresh_after_the_person_was_deactivated_ends_the_session() -> None:
    world = make_world()
    session = await world.service.sign_in(username="an", password=PASSWORD, client=OFFICE)
    password, person = world.directory.people["an"]
    # The same session version: only the deactivation itself can end the session here.
    world.directory.people["an"] = (password, replace(person, active=False))

    with pytest.raises(UnauthenticatedError) as refused:
        await world.service.refresh(presented=session.refresh_token)

    assert refused.value.reason == "ACCOUNT_INACTIVE"
    assert all(token.revoked_at is not None for token in world.db.state.tokens.values())
    assert len(world.tokens.issued) == 1  # no new access token


async def test_sign_out_ends_the_session_here_at_once_and_for_the_other_replicas() -> None:
    world = make_world()
    session = await world.service.sign_in(username="an", password=PASSWORD, client=OFFICE)
    family = world.tokens.issued[0].family_id

    await world.service.sign_out(presented=session.refresh_token)

    assert world.db.state.revocation_log == [("family", family)]
    assert world.db.actions[-1] == "session.sign_out"
    with pytest.raises(UnauthenticatedError):
        world.revocations.check(person_id="p-an", version=1, family_id=family)
    # An unknown token signs nothing out and is no error.
    before = copy.deepcopy(world.db.state)
    await world.service.sign_out(presented="not-a-token")
    assert world.db.state == before


# Password change ---------------------------------------------------------------------------------


async def test_a_wrong_current_password_counts_like_a_wrong_sign_in() -> None:
    world = make_world()

    with pytest.raises(WrongPasswordError):
        await world.service.change_password(
            person_id="p-an",
            credentials=CALLER,
            current_password="đoán-bừa",
            new_password="Mới-mới-mới-1",
            client=STRANGER,
        )

    assert world.db.state.failures_of("person:p-an") == [(STRANGER.key, NOW)]
    assert world.db.actions == ["person.password.change_failed"]


async def test_a_password_change_ends_every_older_session_and_opens_a_new_one() -> None:
    world = make_world()
    old = await world.service.sign_in(username="an", password=PASSWORD, client=OFFICE)
    world.directory.unavailable = True
    with pytest.raises(UnavailableError):
        await world.service.change_password(
            person_id="p-an",
            credentials=CALLER,
            current_password=PASSWORD,
            new_password="Mới-mới-mới-1",
            client=OFFICE,
        )
    assert world.db.state.failures_of("person:p-an") == []  # not a guess: taken back
    world.directory.unavailable = False

    new = await world.service.change_password(
        person_id="p-an",
        credentials=CALLER,
        current_password=PASSWORD,
        new_password="Mới-mới-mới-1",
        client=OFFICE,
    )

    assert new.refresh_token != old.refresh_token
    assert world.tokens.issued[-1].session_version == 2
    assert world.db.state.revocation_log == [("person", "p-an", "2")]
    # This replica refuses the older tokens at once.
    with pytest.raises(UnauthenticatedError):
        world.revocations.check(person_id="p-an", version=1, family_id=None)
    world.revocations.check(person_id="p-an", version=2, family_id=None)
