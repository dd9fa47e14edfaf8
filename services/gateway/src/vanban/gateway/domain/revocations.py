"""Ended sessions, as every gateway replica knows them: access tokens that must stop working
before they expire.

A person's tokens carry the directory's `session_version` of the person when they were issued;
when the directory raises it (password set or changed, deactivation, roles, units, clearance),
every token of an older version is void. A signed-out session's tokens carry its family id,
which is void from then on. Both facts are kept only as long as a token issued before them could
still be alive (the access-token lifetime), so the state stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from vanban.platform.errors import UnauthenticatedError


@dataclass(frozen=True, slots=True)
class Revocation:
    """One fact of the shared log: `person_id` below `min_version` is void, or `family_id`
    (a signed-out session) is void."""

    at: datetime
    person_id: str | None = None
    min_version: int | None = None
    family_id: str | None = None


def session_ended() -> UnauthenticatedError:
    return UnauthenticatedError(
        "this session has ended (signed out, or the account changed): sign in again",
        reason="SESSION_ENDED",
    )


class Revocations:
    """The in-memory view of the revocation log, applied to every token the gateway accepts."""

    def __init__(self, *, keep: timedelta) -> None:
        self._keep = keep
        self._versions: dict[str, tuple[int, datetime]] = {}
        self._families: dict[str, datetime] = {}

    def apply(self, revocation: Revocation) -> bool:
        """Takes one fact in (again, harmlessly); returns whether it was news here."""
        if revocation.family_id is not None:
            known = revocation.family_id in self._families
            self._families[revocation.family_id] = revocation.at
            return not known
        if revocation.person_id is None or revocation.min_version is None:
            return False
        current = self._versions.get(revocation.person_id)
        if current is not None and current[0] >= revocation.min_version:
            return False
        self._versions[revocation.person_id] = (revocation.min_version, revocation.at)
        return True

    def min_version(self, person_id: str) -> int:
        entry = self._versions.get(person_id)
        return entry[0] if entry else 0

    def check(self, *, person_id: str, version: int | None, family_id: str | None) -> None:
        """Refuses a token of an ended session. A token without a version (issued by an older
        gateway) counts as version 0: any change of the person voids it."""
        if family_id is not None and family_id in self._families:
            raise session_ended()
        if (version or 0) < self.min_version(person_id):
            raise session_ended()

    def forget_before(self, now: datetime) -> None:
        """Drops facts no live token can be older than."""
        horizon = now - self._keep
        self._versions = {p: e for p, e in self._versions.items() if e[1] >= horizon}
        self._families = {f: at for f, at in self._families.items() if at >= horizon}
