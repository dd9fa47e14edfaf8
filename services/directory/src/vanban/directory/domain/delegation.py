"""Delegations (ủy quyền): a person lets another act for them, in some actions, for a while."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from vanban.directory.domain.model import check_optional_text, check_text
from vanban.platform.errors import invalid_fields

# What a leader may hand over (see docs/security/permissions.md): assigning documents,
# approving drafts, signing, forwarding down the tree, handling the tasks they hold (forward,
# report, complete, return, recall). Roles themselves are never delegated.
DELEGABLE_ACTIONS = frozenset({"assign", "approve", "sign", "forward", "handle"})
REASON_MAX = 500
PERSON_ID_MAX = 36


@dataclass(frozen=True, slots=True)
class Delegation:
    """Ủy quyền: `to_person_id` may take the actions in `scope` on behalf of
    `from_person_id` from `starts_at` until (not including) `ends_at`, unless revoked."""

    id: str
    from_person_id: str
    to_person_id: str
    scope: frozenset[str]
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    def active_at(self, instant: datetime) -> bool:
        """Whether the delegate could act at `instant`; a past instant gets the answer it had
        then, so a revocation does not rewrite history."""
        if self.revoked_at is not None and self.revoked_at <= instant:
            return False
        return self.starts_at <= instant < self.ends_at

    def conflicts_with(self, draft: DelegationDraft) -> bool:
        """Two delegations of the same person conflict when they are both in force at some
        moment and share an action: at any time each action has at most one delegate, so
        "who acts for the leader" always has one answer."""
        assert draft.starts_at is not None and draft.ends_at is not None, "a validated draft"
        return (
            self.revoked_at is None
            and self.from_person_id == draft.from_person_id
            and self.starts_at < draft.ends_at
            and draft.starts_at < self.ends_at
            and bool(self.scope & frozenset(draft.scope))
        )


@dataclass(frozen=True, slots=True)
class DelegationDraft:
    """What the delegator (or an administrator) enters for a new delegation."""

    from_person_id: str
    to_person_id: str
    scope: Iterable[str]
    starts_at: datetime | None
    ends_at: datetime | None
    reason: str

    def validated(self, *, now: datetime) -> DelegationDraft:
        """Normalises the fields and checks every one; raises one error naming all problems."""
        draft = DelegationDraft(
            from_person_id=self.from_person_id.strip(),
            to_person_id=self.to_person_id.strip(),
            scope=frozenset(action.strip().lower() for action in self.scope if action.strip()),
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            reason=" ".join(self.reason.split()),
        )
        problems: dict[str, str] = {}
        check_text(problems, "from_person_id", draft.from_person_id, PERSON_ID_MAX)
        check_text(problems, "to_person_id", draft.to_person_id, PERSON_ID_MAX)
        if "to_person_id" not in problems and draft.to_person_id == draft.from_person_id:
            problems["to_person_id"] = "a person cannot delegate to themselves"
        unknown = sorted(frozenset(draft.scope) - DELEGABLE_ACTIONS)
        if not draft.scope:
            problems["scope"] = "at least one action is required"
        elif unknown:
            problems["scope"] = (
                f"cannot delegate {', '.join(unknown)}; "
                f"delegable: {', '.join(sorted(DELEGABLE_ACTIONS))}"
            )
        for name in ("starts_at", "ends_at"):
            value = getattr(draft, name)
            if value is None:
                problems[name] = "is required"
            elif value.tzinfo is None:
                problems[name] = "must carry a time zone"
        if "starts_at" not in problems and "ends_at" not in problems:
            assert draft.starts_at is not None and draft.ends_at is not None
            if draft.ends_at <= draft.starts_at:
                problems["ends_at"] = "must be after starts_at"
            elif draft.ends_at <= now:
                problems["ends_at"] = "is already past"
        check_text(problems, "reason", draft.reason, REASON_MAX)
        if problems:
            raise invalid_fields(problems, reason="INVALID_DELEGATION")
        return draft


def check_revoke_reason(reason: str) -> str | None:
    clean = " ".join(reason.split())
    problems: dict[str, str] = {}
    check_optional_text(problems, "reason", clean, REASON_MAX)
    if problems:
        raise invalid_fields(problems, reason="INVALID_DELEGATION")
    return clean or None
