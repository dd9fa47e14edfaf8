"""Delegations (ủy quyền) the caller holds, carried in the caller token for services to apply.

Looked up in the directory per person and kept for a short while: a new or revoked delegation
takes effect within `ttl` seconds. Dates are checked again by the service at the moment of use.
At most `maxsize` people are remembered, so the callers of a busy day cost bounded memory.
"""

from __future__ import annotations

from typing import Protocol

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.adapters.grpc.upstreams import Upstreams
from vanban.platform.cache import TtlCache
from vanban.platform.caller import Delegation
from vanban.platform.convert import from_timestamp, to_timestamp

Held = tuple[Delegation, ...]


class HeldDelegations(Protocol):
    """The delegations a person holds now, as establishing a caller asks for them."""

    async def held_by(self, person_id: str) -> Held: ...


class DelegationCache:
    def __init__(self, upstreams: Upstreams, *, ttl: float = 30.0, maxsize: int = 10_000) -> None:
        self._upstreams = upstreams
        self._held: TtlCache[str, Held] = TtlCache(maxsize=maxsize, ttl=ttl)

    async def held_by(self, person_id: str) -> Held:
        cached = self._held.get(person_id)
        if cached is not None:
            return cached
        now = to_timestamp()
        held: list[Delegation] = []
        page = ""
        while True:
            answer = await self._upstreams.directory.ListDelegations(
                directory_pb2.ListDelegationsRequest(
                    person_id=person_id, active_at=now, page_size=100, page_token=page
                ),
                metadata=self._upstreams.service_metadata(),
                timeout=self._upstreams.timeout,
            )
            held.extend(
                Delegation(
                    id=d.id,
                    delegator_id=d.from_person_id,
                    scopes=frozenset(d.scope),
                    valid_from=from_timestamp(d.starts_at),
                    valid_until=from_timestamp(d.ends_at),
                )
                for d in answer.delegations
                if d.to_person_id == person_id and not d.HasField("revoked_at")
            )
            page = answer.next_page_token
            if not page:
                break
        result = tuple(held)
        self._held.put(person_id, result)
        return result
