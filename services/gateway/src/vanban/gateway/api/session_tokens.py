"""The sign-in use cases' access-token port: the gateway's own tokens for directory people."""

from __future__ import annotations

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.api.auth import AccessTokens, SessionGrant, caller_from_person


class PersonTokens:
    def __init__(self, tokens: AccessTokens, *, agency_code: str) -> None:
        self._tokens = tokens
        self._agency = agency_code

    @property
    def ttl(self) -> int:
        return self._tokens.ttl

    def issue(
        self,
        person: directory_pb2.Person,
        *,
        session_version: int,
        family_id: str,
        must_change_password: bool,
    ) -> str:
        return self._tokens.issue(
            caller_from_person(person, agency_code=self._agency),
            name=person.full_name,
            session=SessionGrant(
                session_version=session_version,
                family_id=family_id,
                must_change_password=must_change_password,
            ),
        )
