"""Ports every service's domain shares. Pure protocols: domains import them."""

from __future__ import annotations

from typing import Protocol


class TransactionPort(Protocol):
    """One business transaction as a domain sees it: its changes and audit entries are written
    together by `commit()`; leaving it without `commit()` writes nothing. A service's own
    `Transaction` port extends it with its repositories and the events its domain records."""

    def audit(
        self,
        *,
        action: str,
        resource: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> None:
        """Queues an audit entry; it names the actor (and whom they act for) that the
        transaction was opened with."""

    async def commit(self) -> None: ...
