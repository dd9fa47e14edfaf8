"""The evidence chain (ADR 0012): every package and status message sent or received is an
entry whose hash covers the previous entry's hash, so either side can later show what was
exchanged, with whom and when, and that no entry was changed or removed since."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

# The previous hash of the first entry.
GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Entry:
    sequence: int
    recorded_at: datetime
    actor: str
    # "sent" or "received".
    direction: str
    # "document", "status" or "unknown" (refused before it could be read).
    kind: str
    counterpart: str
    package_id: str
    # SHA-256 of the signed bytes kept in the archive.
    sha256: str
    summary: str
    previous_hash: str

    def digest(self) -> str:
        """SHA-256 over the entry's canonical JSON (sorted keys, UTC time in ISO 8601)."""
        if self.recorded_at.tzinfo is None:
            raise ValueError("an evidence entry's time must carry its time zone")
        fields = asdict(self)
        fields["recorded_at"] = self.recorded_at.astimezone(UTC).isoformat()
        canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Break:
    """The first entry whose hash does not hold: changed, or the chain was cut before it."""

    sequence: int
    problem: str


def first_break(entries: Iterable[tuple[Entry, str]]) -> Break | None:
    """Walks (entry, stored hash) pairs in sequence order and names the first broken link."""
    previous_hash, expected_sequence = GENESIS, 1
    for entry, stored_hash in entries:
        if entry.sequence != expected_sequence:
            return Break(entry.sequence, f"entry {expected_sequence} is missing")
        if entry.previous_hash != previous_hash:
            return Break(entry.sequence, "its previous hash is not the previous entry's hash")
        if entry.digest() != stored_hash:
            return Break(entry.sequence, "its content does not match its hash")
        previous_hash, expected_sequence = stored_hash, expected_sequence + 1
    return None
