"""The signatures' font is made once in the work directory, which the signing service's
replicas share under `vanban up --replicas`: several making it at once all end up with the one
whole font, and none fails or leaves a piece behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont

from vanban.signing.adapters import pades

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
MAKERS = 2


def test_replicas_making_the_font_at_once_all_get_the_one_whole_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every maker writes its copy at the same time, and only then do they put it in place.
    writing, written = threading.Barrier(MAKERS), threading.Barrier(MAKERS)
    save = TTFont.save

    def save_together(font: TTFont, file: Any, *args: Any, **kwargs: Any) -> None:
        writing.wait(timeout=30)
        save(font, file, *args, **kwargs)
        written.wait(timeout=30)

    monkeypatch.setattr(TTFont, "save", save_together)

    with ThreadPoolExecutor(MAKERS) as pool:
        made = list(pool.map(lambda _: pades.prepare_font(FONT, tmp_path), range(MAKERS)))

    assert made == [tmp_path / "DejaVuSans-signatures.ttf"] * MAKERS
    assert [path.name for path in tmp_path.iterdir()] == ["DejaVuSans-signatures.ttf"]
    font = TTFont(made[0])
    assert getattr(font["head"], "unitsPerEm", None) == 1000
    assert ord("ệ") in (font.getBestCmap() or {})
