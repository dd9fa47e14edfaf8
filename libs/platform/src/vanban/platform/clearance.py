"""The one scale of secrecy (độ mật) and clearance, ordered the same way in every service.

It is the meaning of the caller token's `clearance` claim, which the platform defines (ADR 0006),
not a domain rule of any one service. Pure: domains import it.
"""

from __future__ import annotations

import enum


class Clearance(enum.StrEnum):
    """A level of secrecy (độ mật), lowest first: `NONE` (không mật), `CONFIDENTIAL` (mật),
    `SECRET` (tối mật), `TOP_SECRET` (tuyệt mật).

    A document's secrecy and a person's clearance (the highest secrecy they may read) are levels
    of this one scale. Comparisons (`<`, `<=`, `max`, `sorted`) follow the scale, not the
    alphabet, and refuse to compare with a plain string; equality with the value string holds,
    so the values travel as they are in tokens, columns and JSON.
    """

    NONE = "none"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"
    TOP_SECRET = "top_secret"

    def covers(self, secrecy: Clearance) -> bool:
        """Whether someone cleared to this level may know of a document of `secrecy`."""
        return _rank(secrecy) <= _rank(self)

    def levels_covered(self) -> tuple[Clearance, ...]:
        """Every secrecy level someone cleared to this level may know of, lowest first (what a
        query filters documents by)."""
        return tuple(level for level in Clearance if self.covers(level))

    def __lt__(self, other: object) -> bool:
        return _rank(self) < _rank(other)

    def __le__(self, other: object) -> bool:
        return _rank(self) <= _rank(other)

    def __gt__(self, other: object) -> bool:
        return _rank(self) > _rank(other)

    def __ge__(self, other: object) -> bool:
        return _rank(self) >= _rank(other)

    @classmethod
    def parse(cls, value: object) -> Clearance | None:
        """The level named `value`, or None for a name this platform does not know (a newer
        producer's level): the caller decides how to fail closed."""
        if not isinstance(value, str):  # the levels are strings: nothing else names one
            return None
        try:
            return cls(value)
        except ValueError:
            return None

    @classmethod
    def held(cls, value: object) -> Clearance:
        """A person's clearance as a token or a peer states it: a name this platform does not
        know, or none at all, grants nothing more than `NONE`."""
        return cls.parse(value) or cls.NONE


Secrecy = Clearance
"""A document's secrecy level: a level of the same scale, under the name documents use."""

_RANKS = {level: rank for rank, level in enumerate(Clearance)}


def _rank(level: object) -> int:
    # Not NotImplemented: Python would then fall back to str's alphabetical order.
    if not isinstance(level, Clearance):
        raise TypeError(f"a clearance compares with a clearance, not {type(level).__name__}")
    return _RANKS[level]
