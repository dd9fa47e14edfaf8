"""Delegations (ủy quyền) the caller holds, carried in the caller token for services to apply.

Looked up in the directory per person and kept for a short while: a new or revoked delegation
takes effect within `ttl` seconds. Dates are checked again by the service at the moment of use.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.adapters.grpc.upstreams import Upstreams

Held = tuple[dict[str, str], ...]


class DelegationCache:
    def __init__(self, upstreams: Upstreams, *, ttl: float = 30.0) -> None:
        self._upstreams = upstreams
        self._ttl = ttl
        self._held: dict[str, tuple[float, Held]] = {}

    async def held_by(self, person_id: str) -> Held:
        cached = self._held.get(person_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        now = Timestamp()
        now.FromDatetime(datetime.now(UTC))
        held: list[dict[str, str]] = []
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
                {
                    "id": d.id,
                    "from": d.from_person_id,
                    "scope": ",".join(d.scope),
                    "starts_at": d.starts_at.ToDatetime(tzinfo=UTC).isoformat(),
                    "ends_at": d.ends_at.ToDatetime(tzinfo=UTC).isoformat(),
                }
                for d in answer.delegations
                if d.to_person_id == person_id and not d.HasField("revoked_at")
            )
            page = answer.next_page_token
            if not page:
                break
        result = tuple(held)
        self._held[person_id] = (time.monotonic() + self._ttl, result)
        return result
