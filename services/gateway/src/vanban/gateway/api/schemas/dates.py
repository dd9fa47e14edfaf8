"""A calendar date in a JSON body, written YYYY-MM-DD and nothing else.

`Field(strict=True)` says so for bodies parsed from JSON text (the multipart metadata of a
registration), but FastAPI validates a JSON body as Python objects, where a strict date refuses
every string: the assignment's deadline could not be sent at all. Lax dates, on the other hand,
take numbers as Unix times. This type takes the written form only.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _written(value: object) -> object:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_written)]
