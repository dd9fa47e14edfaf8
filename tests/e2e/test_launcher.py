"""`vanban up` as a person runs it: prints where to go, stops cleanly, keeps its state."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import Gateway
from vanban.launcher.infra import free_port
from vanban.launcher.infra.process import group_members
from vanban.launcher.platform import SERVICES, WORKERS

ENV = {**os.environ, "OTEL_SDK_DISABLED": "true"}


class Launcher:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.output: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vanban.launcher.cli",
                "--data-dir",
                str(data_dir),
                "up",
                "--gateway-port",
                str(port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=ENV,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "Press Ctrl-C to stop." in line:
                self.ready.set()

    def wait_ready(self) -> None:
        if not self.ready.wait(180):
            self.process.kill()
            pytest.fail("vanban up did not come up:\n" + "".join(self.output))

    def pids(self) -> list[int]:
        state = json.loads((self.data_dir / "run" / "state.json").read_text())
        pids = [info["pid"] for info in state["infra"].values()]
        pids += [s["pid"] for agency in state["agencies"] for s in agency["services"].values()]
        return [p for p in pids if p]

    def stop(self, sig: int) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=120)


def status(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vanban.launcher.cli", "--data-dir", str(data_dir), "status"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vanban-up-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_vanban_up_runs_stops_and_keeps_its_state(data_dir: Path) -> None:
    port = free_port()
    first = Launcher(data_dir, port)
    first.wait_ready()
    text = "".join(first.output)
    assert f"http://127.0.0.1:{port}" in text
    for account in ("vanthu", "lanhdao", "truongphong", "chuyenvien"):
        assert account in text
    assert "vanban-demo" in text

    report = status(data_dir)
    assert report.returncode == 0, report.stdout
    # Every service, and the workers beside them (the documents text worker).
    assert report.stdout.count("SERVING") == len(SERVICES) + len(WORKERS)

    gateway = Gateway(f"http://127.0.0.1:{port}")
    token = gateway.token("vanthu")
    created = gateway.register(token)
    assert created.status_code == 201, created.text
    pids = first.pids()
    assert first.stop(signal.SIGTERM) == 0
    assert [pid for pid in pids if group_members(pid)] == []
    assert status(data_dir).returncode == 1

    second = Launcher(data_dir, port)
    second.wait_ready()
    try:
        gateway = Gateway(f"http://127.0.0.1:{port}")
        token = gateway.token("vanthu")
        again = gateway.http.get(
            f"/v1/incoming-documents/{created.json()['id']}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert again.status_code == 200
        assert again.json()["arrival_number"] == created.json()["arrival_number"]
        assert (
            gateway.register(token).json()["arrival_number"] == created.json()["arrival_number"] + 1
        )
        pids = second.pids()
    finally:
        assert second.stop(signal.SIGINT) == 0
    assert [pid for pid in pids if group_members(pid)] == []
