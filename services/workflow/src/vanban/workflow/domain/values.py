"""Values every use case of the workflow checks the same way: ids and free text."""

from __future__ import annotations

import re
import uuid

from vanban.platform.errors import NotFoundError

# Control characters other than tab and line breaks: never in a note, opinion or comment.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def person_id(value: str) -> str:
    """A person id in its one spelling (lower-case, hyphens); "" when it is not one."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return ""


def id_or_not_found(value: str, *, what: str, reason: str) -> str:
    """The id in its one spelling; a value that is no id names nothing: NOT_FOUND."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise NotFoundError(f"no {what} with this id", reason=reason) from None
