"""Dates in JSON bodies: YYYY-MM-DD, as FastAPI validates a JSON body (Python objects)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from vanban.gateway.api.schemas.assignments import AssignmentIn
from vanban.gateway.api.schemas.tasks import ForwardIn


def test_a_written_date_is_taken() -> None:
    body = AssignmentIn.model_validate({"lead_unit": "VP", "deadline": "2026-12-19"})
    assert body.deadline == date(2026, 12, 19)
    forward = ForwardIn.model_validate({"to": [{"unit": "VP"}], "deadline": "2026-12-19"})
    assert forward.deadline == date(2026, 12, 19)


@pytest.mark.parametrize(
    "value", [1_766_102_400, "19/12/2026", "2026-12-19T00:00:00", "2026-02-30", "", True]
)
def test_anything_else_is_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        AssignmentIn.model_validate({"lead_unit": "VP", "deadline": value})
