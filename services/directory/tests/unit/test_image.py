from __future__ import annotations

import pytest

from services.directory.tests.unit.fakes import make_png
from vanban.directory.domain.image import MAX_IMAGE_BYTES, check_png
from vanban.platform.errors import InvalidArgumentError


def test_a_real_png_passes() -> None:
    check_png(make_png())


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "is required"),
        (b"GIF89a" + b"\x00" * 64, "is not a PNG image"),
        (b"%PDF-1.7\n", "is not a PNG image"),
        # The signature alone, or followed by something that is not the IHDR chunk.
        (b"\x89PNG\r\n\x1a\n", "is not a PNG image"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIDAT" + b"\x00" * 20, "is not a PNG image"),
    ],
)
def test_anything_but_a_png_is_refused(data: bytes, problem: str) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        check_png(data)
    assert raised.value.reason == "INVALID_IMAGE"
    assert [(v.field, v.description) for v in raised.value.violations] == [("png", problem)]


def test_a_png_over_one_mib_is_refused_and_one_at_the_limit_passes() -> None:
    png = make_png()
    check_png(png + b"\x00" * (MAX_IMAGE_BYTES - len(png)))
    with pytest.raises(InvalidArgumentError) as raised:
        check_png(png + b"\x00" * (MAX_IMAGE_BYTES - len(png) + 1))
    assert "at most 1048576" in raised.value.violations[0].description
