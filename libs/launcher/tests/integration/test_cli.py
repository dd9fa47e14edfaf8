"""The `vanban` command as a person uses it in two terminals: `up` in one, `down` in another."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vanban.launcher.infra import free_port
from vanban.launcher.platform import SERVICES

ENV = {**os.environ, "OTEL_SDK_DISABLED": "true"}
# A stage line: indented, the seconds since the start, then what became ready.
STAGE = re.compile(r"^ +(\d+\.\d) s  (.+)$")


def vanban(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vanban.launcher.cli", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
        check=False,
    )


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def running_in(data_dir: Path) -> list[str]:
    """Command lines of live processes that name the data directory (the backing servers)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if str(data_dir) in cmdline and state != "Z":
            found.append(cmdline)
    return found


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's 0700 tmp dirs: as root, PostgreSQL runs as postgres and must reach it.
    path = Path(tempfile.mkdtemp(prefix="vanban-cli-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Up:
    """`vanban up` in a terminal of its own, its output collected line by line."""

    def __init__(self, *args: str) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vanban.launcher.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=ENV,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if "Press Ctrl-C to stop." in line:
                self.ready.set()

    def wait_ready(self) -> None:
        if not self.ready.wait(240):
            self.process.kill()
            pytest.fail("vanban up did not come up:\n" + "\n".join(self.lines))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(120)
            except subprocess.TimeoutExpired:
                self.process.kill()


def test_up_names_each_stage_and_down_stops_it_from_another_terminal(data_dir: Path) -> None:
    port = free_port()
    # --data-dir after the command, as well as before it (below, for down).
    up = Up("up", "--data-dir", str(data_dir), "--gateway-port", str(port))
    try:
        up.wait_ready()
        stages = [(float(m[1]), m[2]) for line in up.lines if (m := STAGE.match(line))]
        names = [stage for _, stage in stages]
        backing = ["database ready", "messaging ready", "object storage ready"]
        services = [f"{service} serving" for service in SERVICES]
        at = {}
        for want in backing + services:
            found = [i for i, name in enumerate(names) if name.startswith(want)]
            assert len(found) == 1, (want, up.lines)
            at[want] = found[0]
        assert [second for second, _ in stages] == sorted(second for second, _ in stages)
        # Services start once the backing servers are up; the gateway last, at its own URL.
        assert max(at[want] for want in backing) < min(at[want] for want in services)
        assert names[-1] == f"gateway serving (http://127.0.0.1:{port})"

        state = json.loads((data_dir / "run" / "state.json").read_text())
        ports = [port] + [
            service["grpc_port"]
            for agency in state["agencies"]
            for service in agency["services"].values()
        ]
        ports += [info["port"] for info in state["infra"].values() if info.get("port")]
        assert all(listening(p) for p in ports)
        assert running_in(data_dir) != []

        started = time.monotonic()
        down = vanban("--data-dir", str(data_dir), "down", timeout=200)
        assert down.returncode == 0, down.stdout + down.stderr
        assert "Stopped in" in down.stdout
        # down waited for the launcher: by the time it returns, the launcher has exited.
        assert up.process.wait(timeout=5) == 0
        print("\n".join(up.lines), f"\nvanban down took {time.monotonic() - started:.1f} s")
        assert [p for p in ports if listening(p)] == []
        assert running_in(data_dir) == []
        assert not (data_dir / "run" / "state.json").exists()
        assert "Stopped." in up.lines[-1]
    finally:
        up.kill()

    again = vanban("down", "--data-dir", str(data_dir))
    assert again.returncode == 0
    assert "not running" in again.stdout


def test_the_data_dir_may_follow_the_command(data_dir: Path) -> None:
    before = vanban("--data-dir", str(data_dir), "status")
    after = vanban("status", "--data-dir", str(data_dir))
    assert before.returncode == after.returncode == 1
    assert str(data_dir / "run" / "state.json") in after.stdout
    assert before.stdout == after.stdout


def test_down_tells_of_a_launcher_that_is_gone(data_dir: Path) -> None:
    # A state left by a launcher that was killed: the pid of a process that exited.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (data_dir / "run").mkdir()
    (data_dir / "run" / "state.json").write_text(
        json.dumps({"launcher_pid": gone.pid, "infra": {}, "agencies": []})
    )
    down = vanban("down", "--data-dir", str(data_dir))
    assert down.returncode == 0
    assert f"its launcher, pid {gone.pid}, is gone" in down.stdout


def test_down_stops_a_platform_still_starting(data_dir: Path) -> None:
    up = Up("up", "--data-dir", str(data_dir), "--gateway-port", str(free_port()))
    try:
        deadline = time.monotonic() + 120
        while not any("database ready" in line for line in up.lines):
            assert up.process.poll() is None and time.monotonic() < deadline, up.lines
            time.sleep(0.1)
        assert not (data_dir / "run" / "state.json").exists()
        # A second `vanban up` on the same data must not take the first one's place.
        second = vanban("up", "--data-dir", str(data_dir), "--gateway-port", str(free_port()))
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"already starting or running on {data_dir}" in second.stderr
        pid_file = data_dir / "run" / "launcher.pid"
        assert pid_file.read_text().split() == [str(up.process.pid)]
        down = vanban("down", "--data-dir", str(data_dir), timeout=200)
        assert down.returncode == 0, down.stdout + down.stderr
        assert up.process.wait(timeout=5) == 130
        assert "Stopped before Vanban was up." in up.lines
        assert not (data_dir / "run" / "launcher.pid").exists()
        assert running_in(data_dir) == []
    finally:
        up.kill()
