"""In-memory stand-ins for the unit tests of a domain (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordingTransaction:
    """A `TransactionPort` that keeps what a committed transaction audited in `audits`, and
    drops what one that never commits did. A service's fake extends it with its repositories and
    the events its domain records."""

    # Each entry: action, resource, before, after (the audited values, as given), on_behalf_of.
    audits: list[dict[str, Any]] = field(default_factory=list)
    commits: int = 0
    on_behalf_of: str | None = None
    _pending_audits: list[dict[str, Any]] = field(default_factory=list)

    def act_for(self, person_id: str) -> None:
        self.on_behalf_of = person_id

    def audit(
        self,
        *,
        action: str,
        resource: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> None:
        self._pending_audits.append(
            {
                "action": action,
                "resource": resource,
                "before": before,
                "after": after,
                "on_behalf_of": self.on_behalf_of,
            }
        )

    async def commit(self) -> None:
        self.commits += 1
        self.audits.extend(self._pending_audits)
        self._pending_audits.clear()
