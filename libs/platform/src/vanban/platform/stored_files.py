"""What the archive takes as a file's description (its object header): one rule for the archive
that checks it and the services that describe the files they store."""

from __future__ import annotations

import re

DEFAULT_CONTENT_TYPE = "application/octet-stream"
CONTENT_TYPE_MAX = 127
FILE_NAME_MAX = 255
# type "/" subtype, optionally followed by parameters (RFC 9110 section 8.3.1).
CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?$"
)


def is_media_type(value: str) -> bool:
    return len(value) <= CONTENT_TYPE_MAX and CONTENT_TYPE.match(value) is not None
