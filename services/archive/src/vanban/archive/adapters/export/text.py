"""Clerk-typed text made fit for XML, tag files and PDF pages."""

from __future__ import annotations

import re
from datetime import date

# Characters XML 1.0 cannot carry even as references (controls other than tab, line feed and
# carriage return, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
REPLACEMENT = "\ufffd"


def xml_text(text: str) -> str:
    """`text` with every character XML cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub(REPLACEMENT, text)


def one_line(text: str) -> str:
    """`text` on one line, controls replaced by U+FFFD and runs of spaces made one: for tag
    files and table cells."""
    return _CONTROL.sub(REPLACEMENT, _SPACES.sub(" ", text)).strip()


def clip(text: str, limit: int = 1000) -> str:
    """At most `limit` characters of `text`, an ellipsis marking a cut: a table row or a page
    cannot grow without end."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def vn_date(value: date | None) -> str:
    """A date as Vietnamese readers write it (31/12/2026); empty when unknown."""
    return value.strftime("%d/%m/%Y") if value is not None else ""


def iso_date(value: date | None) -> str:
    return value.isoformat() if value is not None else ""
