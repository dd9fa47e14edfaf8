"""The agency identifier (mã định danh, Decision 20/2020, amended 2025), e.g. 000.00.00.G22:
one rule for every service that reads one (a document's issuer, a recipient, a package's sender,
an inbox on the exchange axis)."""

from __future__ import annotations

import re

# Digits, capitals and dots, starting with a digit or a capital.
ORGAN_ID_PATTERN = r"^[0-9A-Z][0-9A-Z.]*$"
ORGAN_ID_MAX = 13
ORGAN_ID = re.compile(ORGAN_ID_PATTERN)


def is_organ_id(value: str) -> bool:
    return len(value) <= ORGAN_ID_MAX and ORGAN_ID.fullmatch(value) is not None
