"""Limits on wrong passwords: a stranger neither guesses on for long nor locks a person out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from vanban.gateway.domain import sessions
from vanban.gateway.domain.sessions import (
    AccountLockedError,
    Attempt,
    Failure,
    SignInPolicy,
    SignInThrottledError,
)
from vanban.gateway.domain.throttle import PasswordCheckGate, SignInBusyError, TooManyAttemptsError
from vanban.platform.credentials import PASSWORD_MAX
from vanban.platform.errors import InvalidArgumentError

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
POLICY = SignInPolicy(
    window=timedelta(minutes=15),
    max_failures=3,
    account_max_failures=5,
    address_max_failures=4,
    known_for=timedelta(days=30),
)
STRANGER = "198.51.100.66"
OFFICE = "192.0.2.10"


class MemoryStore:
    def __init__(self) -> None:
        self.failures: list[tuple[str, str, datetime]] = []
        self.known: dict[tuple[str, str], datetime] = {}
        self.locked: list[str] = []

    async def lock_account(self, account: str) -> None:
        self.locked.append(account)

    async def account_failures(self, account: str, *, since: datetime) -> list[Failure]:
        return [
            Failure(at, addr) for acc, addr, at in self.failures if acc == account and at > since
        ]

    async def address_failures(self, address: str, *, since: datetime) -> list[datetime]:
        return [at for _, addr, at in self.failures if addr == address and at > since]

    async def record_failure(self, account: str, *, address: str, at: datetime) -> int:
        self.failures.append((account, address, at))
        return len(self.failures) - 1

    async def forget_failure(self, failure_id: int) -> None:
        del self.failures[failure_id]

    async def clear_failures(self, account: str, *, address: str) -> None:
        self.failures = [f for f in self.failures if (f[0], f[1]) != (account, address)]

    async def is_known_address(self, account: str, *, address: str, since: datetime) -> bool:
        seen = self.known.get((account, address))
        return seen is not None and seen > since

    async def remember_address(self, account: str, *, address: str, at: datetime) -> None:
        self.known[(account, address)] = at


def admit(store: MemoryStore, account: str, address: str, now: datetime = NOW) -> Attempt:
    return asyncio.run(
        sessions.admit_attempt(
            store=store,
            account=account,
            address=address,
            now=now,
            policy=POLICY,
        )
    )


def fail(store: MemoryStore, account: str, address: str, *, minutes_ago: float = 1) -> None:
    store.failures.append((account, address, NOW - timedelta(minutes=minutes_ago)))


def test_wrong_passwords_lock_the_account_for_that_address_only() -> None:
    store = MemoryStore()
    for minutes_ago in (10, 5, 1):
        fail(store, "an", STRANGER, minutes_ago=minutes_ago)

    with pytest.raises(AccountLockedError) as locked:
        admit(store, "an", STRANGER)
    # The lock lifts when the oldest failure leaves the window: 15 - 10 minutes from now.
    assert locked.value.metadata["retry_after_seconds"] == str(5 * 60)
    assert store.locked == ["an"]  # counted under the account's lock
    # The person, anywhere else, is not locked out.
    assert admit(store, "an", OFFICE).here == 0


def test_failures_that_aged_out_do_not_count() -> None:
    store = MemoryStore()
    for _ in range(3):
        fail(store, "an", STRANGER, minutes_ago=16)

    assert admit(store, "an", STRANGER).here == 0


def test_many_addresses_guessing_one_account_are_throttled_but_not_where_the_person_works() -> None:
    store = MemoryStore()
    store.known[("an", OFFICE)] = NOW - timedelta(days=2)
    for n in range(5):
        fail(store, "an", f"203.0.113.{n}", minutes_ago=5 - n)

    with pytest.raises(SignInThrottledError) as throttled:
        admit(store, "an", "203.0.113.99")
    assert throttled.value.reason == "ACCOUNT_THROTTLED"
    assert throttled.value.metadata["retry_after_seconds"] == str(10 * 60)
    assert admit(store, "an", OFFICE).known_address


def test_an_address_known_long_ago_is_a_stranger_again() -> None:
    store = MemoryStore()
    store.known[("an", OFFICE)] = NOW - timedelta(days=31)
    for n in range(5):
        fail(store, "an", f"203.0.113.{n}")

    with pytest.raises(SignInThrottledError):
        admit(store, "an", OFFICE)


def test_one_address_spraying_many_accounts_is_throttled_for_accounts_it_does_not_know() -> None:
    store = MemoryStore()
    store.known[("binh", STRANGER)] = NOW - timedelta(hours=1)
    for n in range(4):
        fail(store, f"person-{n}", STRANGER)

    with pytest.raises(SignInThrottledError) as throttled:
        admit(store, "an", STRANGER)
    assert throttled.value.reason == "ADDRESS_THROTTLED"
    # Someone who signs in from there every day is not caught by it (a shared office address).
    assert admit(store, "binh", STRANGER).known_address


def test_the_lock_holds_even_where_the_person_signed_in_before() -> None:
    store = MemoryStore()
    store.known[("an", OFFICE)] = NOW - timedelta(hours=1)
    for _ in range(3):
        fail(store, "an", OFFICE)

    with pytest.raises(AccountLockedError):
        admit(store, "an", OFFICE)


def test_each_limit_is_named_once_by_the_failure_that_reaches_it() -> None:
    assert Attempt("an", STRANGER, False, 2, 4, 3, 1).limits_reached_by_failure(POLICY) == [
        "locked",
        "account_throttled",
        "address_throttled",
    ]
    assert Attempt("an", STRANGER, False, 1, 2, 1, 1).limits_reached_by_failure(POLICY) == []
    assert Attempt("an", OFFICE, True, 0, 4, None, 1).limits_reached_by_failure(POLICY) == [
        "account_throttled"
    ]


def test_an_admitted_attempt_counts_as_a_failure_until_it_is_settled() -> None:
    """Parallel guesses need not wait for one another's checks: each already counts."""
    store = MemoryStore()
    first = admit(store, "an", STRANGER)
    admit(store, "an", STRANGER)
    admit(store, "an", STRANGER)

    with pytest.raises(AccountLockedError):
        admit(store, "an", STRANGER)  # three checks in flight, none settled yet
    # A check that could not be made gives its place back.
    asyncio.run(store.forget_failure(first.reservation))
    assert admit(store, "an", STRANGER).here == 2


# Password checks in flight -------------------------------------------------------------------


def test_one_address_gets_a_few_slots_and_the_rest_of_its_attempts_are_refused_at_once() -> None:
    async def scenario() -> tuple[list[str], bool]:
        gate = PasswordCheckGate(total=4, per_address=1, waiting_per_address=1, wait_seconds=5)
        release = asyncio.Event()
        outcomes: list[str] = []

        async def attempt(address: str) -> None:
            try:
                async with gate.address_slot(address), gate.check_slot():
                    outcomes.append(f"in {address}")
                    await release.wait()
            except TooManyAttemptsError:
                outcomes.append(f"refused {address}")

        tasks = [asyncio.create_task(attempt(STRANGER)) for _ in range(5)]
        await asyncio.sleep(0.05)
        # Someone else still gets in while the stranger's attempts hold their share.
        other = asyncio.create_task(attempt(OFFICE))
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(*tasks, other)
        return outcomes, not gate._addresses

    outcomes, emptied = asyncio.run(scenario())

    assert outcomes.count(f"refused {STRANGER}") == 3
    assert outcomes.count(f"in {STRANGER}") == 2  # one at once, one after waiting
    assert f"in {OFFICE}" in outcomes
    assert emptied


def test_when_every_check_stays_taken_the_answer_is_busy_not_a_long_queue() -> None:
    async def scenario() -> float:
        gate = PasswordCheckGate(total=1, per_address=1, waiting_per_address=0, wait_seconds=0.1)
        release = asyncio.Event()

        async def hold() -> None:
            async with gate.address_slot(STRANGER), gate.check_slot():
                await release.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0.01)
        began = asyncio.get_running_loop().time()
        with pytest.raises(SignInBusyError) as busy:
            async with gate.address_slot(OFFICE), gate.check_slot():
                pass
        waited = asyncio.get_running_loop().time() - began
        assert busy.value.metadata["retry_after_seconds"] == "1"
        release.set()
        await holder
        async with gate.address_slot(OFFICE), gate.check_slot():  # free again afterwards
            pass
        return waited

    assert asyncio.run(scenario()) < 5


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("", "mat-khau", "username"),
        ("   ", "mat-khau", "username"),
        ("van\x00thu", "mat-khau", "username"),
        ("vanthu", "", "password"),
        ("vanthu", "x" * (PASSWORD_MAX + 1), "password"),
    ],
)
def test_credentials_the_directory_would_not_check_are_refused_before_anything_is_counted(
    username: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        sessions.account_key(username, password=password)

    assert refused.value.reason == "INVALID_CREDENTIALS_FORMAT"
    assert [v.field for v in refused.value.violations] == [field]
    assert sessions.account_key(" VanThu ", password="mat-khau") == "vanthu"
