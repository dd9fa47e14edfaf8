"""The one Dockerfile stays in step with the workspace and the Makefile (no build needed)."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def test_no_service_keeps_a_dockerfile_of_its_own() -> None:
    assert sorted(REPO.glob("services/*/Dockerfile")) == []


def test_the_image_installs_the_uv_the_makefile_uses() -> None:
    makefile = re.search(r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    dockerfile = re.search(r"^ARG UV_VERSION=(\S+)$", DOCKERFILE, re.M)
    assert makefile and dockerfile
    assert dockerfile.group(1) == makefile.group(1)


def test_the_dependency_layer_sees_every_workspace_member() -> None:
    # uv resolves the locked workspace from the members' pyproject files, which the Dockerfile
    # copies one by one (before the code, so that a code change keeps the dependency layer).
    members = sorted(
        str(path.parent.relative_to(REPO))
        for pattern in ("libs/*/pyproject.toml", "services/*/pyproject.toml")
        for path in REPO.glob(pattern)
    )
    copied = sorted(re.findall(r"^COPY (\S+)/pyproject\.toml \1/$", DOCKERFILE, re.M))
    assert copied == members


def test_ocr_comes_with_the_documents_image_and_the_bootstrap() -> None:
    # The text worker runs from the documents image and, locally and in CI, from `make up` /
    # `make test`: both install Debian's tesseract with its Vietnamese data themselves.
    packages = "tesseract-ocr tesseract-ocr-vie"
    documents_step = re.search(
        r'if \[ "\$\{SERVICE\}" = documents \]; then(.*?)fi$', DOCKERFILE, re.S | re.M
    )
    assert documents_step and packages in documents_step.group(1)
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^bootstrap: .*\btesseract\b", makefile, re.M)
    assert packages in makefile


@pytest.mark.parametrize(
    "service", sorted(path.parent.name for path in REPO.glob("services/*/pyproject.toml"))
)
def test_every_image_with_migrations_can_migrate(
    service: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The Deployments' init container runs the image with `migrate` (so does tests/images):
    # every service that keeps migrations must offer the command.
    kept = REPO / "services" / service / "src" / "vanban" / service / "migrations"
    monkeypatch.setattr(sys, "argv", [f"vanban.{service}", "--help"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module(f"vanban.{service}", run_name="__main__")
    assert exited.value.code == 0
    commands = re.findall(r"^    ([a-z-]+) ", capsys.readouterr().out, re.M)
    assert "serve" in commands
    assert ("migrate" in commands) == kept.is_dir()
