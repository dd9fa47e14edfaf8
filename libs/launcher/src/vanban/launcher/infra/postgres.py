import asyncio
import logging
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from vanban.launcher.infra.errors import InfraError
from vanban.launcher.infra.ports import LOOPBACK, free_port
from vanban.launcher.infra.process import (
    Server,
    child_pids,
    kill_group,
    pid_alive,
    process_name,
    read_log_tail,
)

logger = logging.getLogger(__name__)

_DEBIAN_BINDIR = Path("/usr/lib/postgresql/15/bin")
_SERVER_USER = "postgres"
_SUPERUSER = "postgres"
# sun_path is 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107


def find_pg_bindir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl``, ``postgres`` and ``psql``."""
    if (_DEBIAN_BINDIR / "pg_ctl").is_file():
        return _DEBIAN_BINDIR
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "pg_ctl").is_file():
            return bindir
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is not None:
        return Path(pg_ctl).resolve().parent
    raise InfraError(
        "PostgreSQL server binaries not found (looked in "
        f"{_DEBIAN_BINDIR}, `pg_config --bindir` and PATH); apt-get install postgresql"
    )


class PostgresServer(Server):
    """A real PostgreSQL cluster in ``data_dir``, created with ``initdb`` on first start.

    initdb and the server refuse to run as root, so as root they run as the ``postgres``
    user and ``data_dir`` is handed to it; clients (``psql`` here, the tests, the services)
    run as whoever we are and connect over TCP with trust authentication.

    ``fast=True`` turns durability off (no fsync, no synchronous commit, no full page writes):
    for throwaway test clusters only.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        fast: bool = False,
        max_connections: int = 300,
        bindir: Path | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port if port is not None else free_port()
        self.fast = fast
        self.max_connections = max_connections
        self.bindir = bindir if bindir is not None else find_pg_bindir()
        self.startup_timeout = startup_timeout
        # The log lives beside the data directory, which must stay owned by the server user.
        self.log_path = self.data_dir.parent / "postgres.log"
        self._server_user = pwd.getpwnam(_SERVER_USER) if os.geteuid() == 0 else None
        self._socket_dir: Path | None = None
        self._started = False

    def dsn(self, database: str = "postgres") -> str:
        """SQLAlchemy URL for the asyncpg driver."""
        return f"postgresql+asyncpg://{_SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    def libpq_dsn(self, database: str = "postgres") -> str:
        """Plain ``postgresql://`` URL, for ``asyncpg.connect`` and libpq tools."""
        return f"postgresql://{_SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, if this server is running."""
        pid, port = self._postmaster_pid_and_port()
        if pid is None or port != self.port or not self._is_our_postmaster(pid):
            return None
        return pid

    def is_running(self) -> bool:
        return self.pid is not None

    def start(self) -> None:
        if self._started and self.is_running():
            return
        self._prepare_directories()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._clear_stale_server()
        offset = self._log_size()
        options = [
            f"-p {self.port}",
            f"-k {shlex.quote(str(self._socket_directory()))}",
            f"-c listen_addresses={LOOPBACK}",
            f"-c max_connections={self.max_connections}",
        ]
        if self.fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        started = time.monotonic()
        result = self._run_as_server_user(
            [
                self.bindir / "pg_ctl",
                "-D",
                self.data_dir,
                "-l",
                self.log_path,
                "-w",
                "-t",
                str(int(self.startup_timeout)),
                "-o",
                " ".join(options),
                "start",
            ],
            timeout=self.startup_timeout + 10,
        )
        if result.returncode != 0 or not self.is_running():
            raise InfraError(
                f"PostgreSQL in {self.data_dir} did not start on port {self.port}",
                log_tail=read_log_tail(self.log_path, offset=offset),
            )
        self._started = True
        logger.info(
            "PostgreSQL ready on %s:%d in %.2f s", LOOPBACK, self.port, time.monotonic() - started
        )

    def stop(self) -> None:
        pid = self.pid
        if pid is not None:
            self._stop_postmaster(pid)
        self._started = False
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def create_database(self, name: str) -> None:
        """Create database ``name`` unless it already exists."""
        self._psql(
            "SELECT format('CREATE DATABASE %I', :'name')"
            " WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name')\\gexec\n",
            variables={"name": name},
        )

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions."""
        self._psql(
            "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'name')\\gexec\n",
            variables={"name": name},
        )

    def create_extensions(self, database: str, extensions: Sequence[str]) -> None:
        """``CREATE EXTENSION IF NOT EXISTS`` each of ``extensions`` in ``database``."""
        variables = {f"ext{i}": name for i, name in enumerate(extensions)}
        script = "".join(
            f"SELECT format('CREATE EXTENSION IF NOT EXISTS %I', :'{var}')\\gexec\n"
            for var in variables
        )
        self._psql(script, variables=variables, database=database)

    async def acreate_database(self, name: str) -> None:
        await asyncio.to_thread(self.create_database, name)

    async def adrop_database(self, name: str) -> None:
        await asyncio.to_thread(self.drop_database, name)

    async def acreate_extensions(self, database: str, extensions: Sequence[str]) -> None:
        await asyncio.to_thread(self.create_extensions, database, extensions)

    def _prepare_directories(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        user = self._server_user
        if user is None:
            return
        os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        os.chown(self.log_path, user.pw_uid, user.pw_gid)
        # A data directory under a 0700 directory of root's (/root, pytest's tmp base) cannot
        # be reached by the postgres user; say so instead of letting initdb fail obscurely.
        reachable = self._run_as_server_user(
            ["test", "-w", self.data_dir, "-a", "-w", self.log_path]
        )
        if reachable.returncode != 0:
            raise InfraError(
                f"the {_SERVER_USER!r} user cannot write {self.data_dir} or {self.log_path}: "
                "every parent directory must be searchable by it (chmod o+x), "
                "or put the data directory elsewhere"
            )

    def _initdb(self) -> None:
        if any(self.data_dir.iterdir()):
            raise InfraError(
                f"{self.data_dir} has no PG_VERSION but is not empty: not a PostgreSQL data "
                "directory; remove it or choose another one"
            )
        offset = self._log_size()
        argv: list[str | Path] = [
            self.bindir / "initdb",
            "-D",
            self.data_dir,
            "-U",
            _SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-instructions",
        ]
        if self.fast:
            argv.append("--no-sync")
        started = time.monotonic()
        if self._run_as_server_user(argv, timeout=120).returncode != 0:
            raise InfraError(
                f"initdb failed for {self.data_dir}",
                log_tail=read_log_tail(self.log_path, offset=offset),
            )
        logger.info("initdb %s in %.2f s", self.data_dir, time.monotonic() - started)

    def _clear_stale_server(self) -> None:
        """Leave no earlier server on this data directory, and no pid file of a dead one."""
        pid, _ = self._postmaster_pid_and_port()
        if pid is None:
            return
        if self._is_our_postmaster(pid):
            logger.warning(
                "stopping a PostgreSQL already running on %s (pid %d)", self.data_dir, pid
            )
            self._stop_postmaster(pid)
        else:
            # The server died without cleaning up. postgres would usually detect that, but not
            # when the pid has since been reused by another process.
            logger.warning("removing stale postmaster.pid of dead pid %d in %s", pid, self.data_dir)
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def server_pids(self) -> list[int]:
        """The postmaster and its live children (each backend runs in a session of its own)."""
        pid = self.pid
        return [pid, *child_pids(pid)] if pid is not None else []

    def _stop_postmaster(self, pid: int) -> None:
        # Every postgres child calls setsid(), so no process group covers the whole server:
        # remember the children to check them once the postmaster is gone.
        pids = [pid, *child_pids(pid)]
        for mode in ("fast", "immediate"):
            self._run_as_server_user(
                [self.bindir / "pg_ctl", "-D", self.data_dir, "-m", mode, "-w", "-t", "60", "stop"],
                timeout=70,
            )
            if not pid_alive(pid):
                break
            logger.warning("PostgreSQL pid %d survived pg_ctl stop -m %s", pid, mode)
        leftovers = [p for p in pids if pid_alive(p)]
        if leftovers:
            logger.warning("killing PostgreSQL processes left after stop: %s", leftovers)
            for leftover in leftovers:
                kill_group(leftover, grace=5.0)

    def _postmaster_pid_and_port(self) -> tuple[int | None, int | None]:
        # postmaster.pid holds, one per line: pid, data directory, start time, port, ...
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return None, None
        numbers = [int(line) if line.strip().isdigit() else None for line in lines[:4]]
        numbers += [None] * (4 - len(numbers))
        return numbers[0], numbers[3]

    def _is_our_postmaster(self, pid: int) -> bool:
        if not pid_alive(pid):
            return False
        # The postmaster's working directory is its data directory: this tells our server from
        # an unrelated process (even another cluster) that got the recorded pid.
        try:
            return Path(os.readlink(f"/proc/{pid}/cwd")) == self.data_dir.resolve()
        except OSError:
            return process_name(pid) in ("postgres", "postmaster")

    def _socket_directory(self) -> Path:
        if len(str(self.data_dir / ".s.PGSQL.65535.lock")) <= _MAX_SOCKET_PATH:
            return self.data_dir
        if self._socket_dir is None:
            self._socket_dir = Path(tempfile.mkdtemp(prefix="vanban-pg-"))
            if self._server_user is not None:
                os.chown(self._socket_dir, self._server_user.pw_uid, self._server_user.pw_gid)
        return self._socket_dir

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def _run_as_server_user(
        self, argv: Sequence[str | Path], *, timeout: float = 30.0
    ) -> subprocess.CompletedProcess[bytes]:
        user = self._server_user
        with self.log_path.open("ab") as log:
            try:
                return subprocess.run(
                    [os.fspath(arg) for arg in argv],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_clean_env(),
                    cwd=self.data_dir,
                    start_new_session=True,
                    timeout=timeout,
                    check=False,
                    user=user.pw_uid if user is not None else None,
                    group=user.pw_gid if user is not None else None,
                    extra_groups=[] if user is not None else None,
                )
            except subprocess.TimeoutExpired as exc:
                raise InfraError(
                    f"{Path(os.fspath(argv[0])).name} did not finish in {timeout:.0f} s",
                    log_tail=read_log_tail(self.log_path),
                ) from exc

    def _psql(self, script: str, *, variables: dict[str, str], database: str = "postgres") -> None:
        argv = [
            os.fspath(self.bindir / "psql"),
            "-X",
            "-q",
            "-w",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-U",
            _SUPERUSER,
            "-d",
            database,
        ]
        for name, value in variables.items():
            argv += ["-v", f"{name}={value}"]
        # The script goes through stdin: psql interpolates :'var' there, not in -c commands.
        result = subprocess.run(
            argv,
            input=script,
            capture_output=True,
            text=True,
            env={**_clean_env(), "PGCONNECT_TIMEOUT": "10"},
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise InfraError(f"psql on database {database!r} failed: {result.stderr.strip()}")


def _clean_env() -> dict[str, str]:
    # PGHOST, PGOPTIONS and friends from the caller's shell must not redirect our tools.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}
