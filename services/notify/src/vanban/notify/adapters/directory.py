"""The directory service as notify's `People` port, over its gRPC contract."""

from __future__ import annotations

import asyncio
import time

import grpc
from nats.aio.client import Client
from nats.aio.msg import Msg

from vanban.contracts.directory.v1 import directory_pb2 as dpb
from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.notify.domain.model import Recipient
from vanban.platform.clearance import Clearance
from vanban.platform.convert import clearance_from_pb
from vanban.platform.errors import UnavailableError
from vanban.platform.events.durables import follows_of
from vanban.platform.grpc.status import remote_error

PAGE_SIZE = 500
ROLE_NAMES = {
    value: name.removeprefix("ROLE_").lower()
    for name, value in dpb.Role.items()
    if value != dpb.ROLE_UNSPECIFIED
}


def unavailable(what: str, exc: grpc.aio.AioRpcError) -> UnavailableError:
    """The directory did not answer: the event is tried again shortly."""
    error = remote_error(exc)
    return UnavailableError(
        f"the directory could not list {what}: {exc.code().name} {error.message}",
        reason="DIRECTORY_UNAVAILABLE",
    )


def recipient(person: dpb.Person, heads: frozenset[str] = frozenset()) -> Recipient:
    return Recipient(
        id=person.id,
        # A level this notify does not know grants nothing more than none.
        clearance=clearance_from_pb(person.clearance) or Clearance.NONE,
        active=person.active,
        roles=frozenset(ROLE_NAMES[r] for r in person.roles if r in ROLE_NAMES),
        units=tuple(person.unit_codes),
        email=person.email,
        full_name=person.full_name,
        heads=heads,
    )


class DirectoryPeople:
    """The agency's people, asked of the directory. The whole list is kept for a few seconds:
    a burst of events (a leader assigning a pile of documents) asks once."""

    def __init__(
        self, channel: grpc.aio.Channel, *, timeout: float = 10.0, cache_seconds: float = 5.0
    ) -> None:
        self._stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, list[Recipient]] | None = None
        # Bumped by every change the directory tells of: a list fetched while one came in is
        # not kept (it may predate the change).
        self._generation = 0
        self._lock = asyncio.Lock()

    def forget(self) -> None:
        """Someone changed in the directory: the next event asks it afresh."""
        self._generation += 1
        self._cached = None

    async def follow(self, nc: Client | None) -> None:
        """Forgets the people whenever the directory says one changed (plain NATS, at most once:
        a missed word leaves them at most `cache_seconds` old)."""
        if nc is None:
            return

        async def changed(_: Msg) -> None:
            self.forget()

        for follow in follows_of("notify"):
            await nc.subscribe(follow.subject, cb=changed)

    async def active_clerks(self) -> list[Recipient]:
        return [p for p in await self.everyone() if p.active and "clerk" in p.roles]

    async def everyone(self) -> list[Recipient]:
        async with self._lock:
            now = time.monotonic()
            if self._cached is not None and self._cached[0] > now:
                return self._cached[1]
            generation = self._generation
            people = await self._list()
            if generation == self._generation:
                self._cached = (now + self._cache_seconds, people)
            return people

    async def _list(self) -> list[Recipient]:
        """Every person, with the units they head or deputise (the units' own word, as
        workflow reads it)."""
        heads: dict[str, set[str]] = {}
        try:
            units = await self._stub.ListUnits(dpb.ListUnitsRequest(), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise unavailable("units", exc) from exc
        for unit in units.units:
            for person_id in (unit.head_person_id, *unit.deputy_person_ids):
                if person_id:
                    heads.setdefault(person_id, set()).add(unit.code)
        people: list[Recipient] = []
        token = ""
        while True:
            try:
                response = await self._stub.ListPeople(
                    dpb.ListPeopleRequest(page_size=PAGE_SIZE, page_token=token),
                    timeout=self._timeout,
                )
            except grpc.aio.AioRpcError as exc:
                raise unavailable("people", exc) from exc
            people.extend(
                recipient(person, frozenset(heads.get(person.id, ()))) for person in response.people
            )
            token = response.next_page_token
            if not token:
                return people
