import asyncio
import base64
import hashlib
import hmac
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
from urllib.parse import quote

from vanban.launcher.infra.errors import InfraError
from vanban.launcher.infra.files import PRIVATE_FILE, new_password, open_private_log
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
SUPERUSER = "postgres"
_AUTH_METHOD = "scram-sha-256"
_SCRAM_ITERATIONS = 4096
# As root, a cluster whose data directory the postgres user cannot reach is kept here instead.
EXTERNAL_CLUSTERS = Path("/var/lib/vanban")
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


def server_user() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root (initdb refuses root); else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(_SERVER_USER)
    except KeyError:
        raise InfraError(
            f"running as root, but there is no {_SERVER_USER!r} user to run PostgreSQL as:"
            " apt-get install postgresql"
        ) from None


def can_reach(user: pwd.struct_passwd, directory: Path) -> bool:
    """Whether ``user`` can search ``directory``, i.e. traverse every directory down to it."""
    result = subprocess.run(
        ["test", "-x", os.fspath(directory)],
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
        timeout=10,
    )
    return result.returncode == 0


def cluster_home(home: Path, *, external_root: Path = EXTERNAL_CLUSTERS) -> Path:
    """The directory for a cluster's ``data/`` and log, normally ``home`` itself.

    As root the server runs as ``postgres``, which cannot get through a directory such as
    /root (0700). Opening /root up would expose all of root's files, so instead the cluster
    is kept in a postgres-owned directory under ``external_root``, named after ``home``, and
    ``home`` becomes a symbolic link to it: whoever removes the data directory can see where
    the cluster is (``make clean`` removes both), and the next start finds it again.
    """
    home = home.absolute()
    user = server_user()
    if user is None:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        return home
    if home.is_symlink():
        target = home.readlink()
    elif home.is_dir() or can_reach(user, home.parent):
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(home, user.pw_uid, user.pw_gid)
        home.chmod(0o700)
        return home
    else:
        digest = hashlib.sha256(os.fsencode(home)).hexdigest()[:16]
        target = external_root / digest
    if not external_root.is_dir():
        external_root.mkdir(parents=True)
        # Explicitly: the umask (0077 under `vanban up`) would keep the postgres user out.
        external_root.chmod(0o755)
    target.mkdir(mode=0o700, exist_ok=True)
    os.chown(target, user.pw_uid, user.pw_gid)
    # Says whose cluster this is, for someone looking at external_root later.
    (target / "origin").write_text(f"{home}\n")
    if not home.is_symlink():
        home.parent.mkdir(parents=True, exist_ok=True)
        home.symlink_to(target, target_is_directory=True)
        logger.warning(
            "the postgres user cannot reach the data directory; the cluster is kept elsewhere",
            extra={"unreachable": home.parent, "cluster": target},
        )
    return target


class PostgresServer(Server):
    """A real PostgreSQL cluster in ``data_dir``, created with ``initdb`` on first start.

    initdb and the server refuse to run as root, so as root they run as the ``postgres``
    user and ``data_dir`` is handed to it; clients (``psql`` here, the tests, the services)
    run as whoever we are and connect over TCP with a password (SCRAM), never on trust:
    any local user can reach a loopback port. The superuser's ``password`` is generated when
    not given; only whoever holds this object knows it. Services get roles of their own from
    ``create_database(..., owner=..., password=...)``, each owning only its database.

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
        password: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port if port is not None else free_port()
        self.password = password or new_password()
        self.fast = fast
        self.max_connections = max_connections
        self.bindir = bindir if bindir is not None else find_pg_bindir()
        self.startup_timeout = startup_timeout
        # The log lives beside the data directory, which must stay owned by the server user.
        self.log_path = self.data_dir.parent / "postgres.log"
        self._server_user = server_user()
        self._socket_dir: Path | None = None
        self._started = False

    def dsn(
        self, database: str = "postgres", *, role: str | None = None, password: str | None = None
    ) -> str:
        """SQLAlchemy URL for the asyncpg driver: the superuser's, or ``role``'s with ``password``."""
        return self._url("postgresql+asyncpg", database, role, password)

    def libpq_dsn(
        self, database: str = "postgres", *, role: str | None = None, password: str | None = None
    ) -> str:
        """Plain ``postgresql://`` URL, for ``asyncpg.connect`` and libpq tools."""
        return self._url("postgresql", database, role, password)

    def _url(self, scheme: str, database: str, role: str | None, password: str | None) -> str:
        if role is None:
            role, password = SUPERUSER, self.password
        if password is None:
            raise ValueError(f"no password given for role {role!r}")
        userinfo = f"{quote(role, safe='')}:{quote(password, safe='')}"
        return f"{scheme}://{userinfo}@{LOOPBACK}:{self.port}/{quote(database, safe='')}"

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
        self._check_authentication()
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
        self._revoke_default_connect()
        logger.info(
            "PostgreSQL ready",
            extra={
                "address": f"{LOOPBACK}:{self.port}",
                "seconds": round(time.monotonic() - started, 2),
            },
        )

    def stop(self) -> bool:
        pid = self.pid
        killed = self._stop_postmaster(pid) if pid is not None else False
        self._started = False
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        return killed

    def create_database(
        self, name: str, *, owner: str | None = None, password: str | None = None
    ) -> None:
        """Create database ``name`` unless it already exists.

        With ``owner``, the database belongs to that login role (created, or given
        ``password`` again if it exists) and no other role but the superuser may connect to it:
        a service that owns its database can migrate it and create trusted extensions
        (``unaccent``, ``pg_trgm``) in it, and can open no other service's database.
        """
        if owner is None:
            self._psql(
                "SELECT format('CREATE DATABASE %I', :'name')"
                " WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name')\\gexec\n",
                variables={"name": name},
            )
            return
        if password is None:
            raise ValueError(f"the owner {owner!r} of database {name!r} needs a password")
        self._psql(
            # The role and its password first, so the database can be created owned by it.
            "SELECT format('CREATE ROLE %I LOGIN', :'owner')"
            " WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner')\\gexec\n"
            "SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
            " NOREPLICATION NOBYPASSRLS PASSWORD %L', :'owner', :'verifier')\\gexec\n"
            "SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'owner')"
            " WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name')\\gexec\n"
            "SELECT format('ALTER DATABASE %I OWNER TO %I', :'name', :'owner')\\gexec\n"
            # New databases let PUBLIC connect and make temporary tables: every role could
            # open every service's database. Only the owner (and the superuser) may.
            "SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name')\\gexec\n",
            variables={"name": name, "owner": owner, "verifier": scram_verifier(password)},
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
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        open_private_log(self.log_path).close()
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
        # initdb reads the superuser's password from a file; the server user must read it and
        # nobody else may, so it sits beside the data directory for the moment initdb runs.
        pwfile = self.data_dir.parent / f".initdb-pw.{os.getpid()}"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w") as out:
            out.write(self.password + "\n")
        try:
            if self._server_user is not None:
                os.chown(pwfile, self._server_user.pw_uid, self._server_user.pw_gid)
            argv: list[str | Path] = [
                self.bindir / "initdb",
                "-D",
                self.data_dir,
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "-A",
                _AUTH_METHOD,
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
        finally:
            pwfile.unlink(missing_ok=True)
        logger.info(
            "initdb finished",
            extra={"data_dir": self.data_dir, "seconds": round(time.monotonic() - started, 2)},
        )

    def _check_authentication(self) -> None:
        """Refuse a cluster that lets anyone in: one made by an earlier launcher with ``trust``."""
        try:
            hba = (self.data_dir / "pg_hba.conf").read_text()
        except OSError as exc:
            raise InfraError(f"cannot read {self.data_dir / 'pg_hba.conf'}: {exc}") from exc
        for line in hba.splitlines():
            fields = line.split("#", 1)[0].split()
            if fields and fields[-1] != _AUTH_METHOD and fields[0] in ("local", "host"):
                raise InfraError(
                    f"{self.data_dir} accepts connections without a password ({line.strip()!r}):"
                    " it was made by an earlier version of the launcher. Remove it (make clean)"
                    " and start again; a new cluster is created with passwords."
                )

    def _revoke_default_connect(self) -> None:
        # Every role may connect to the maintenance databases by default; service roles have
        # no business there (their own database is all they need).
        self._psql(
            "REVOKE ALL ON DATABASE postgres FROM PUBLIC;\n"
            "REVOKE ALL ON DATABASE template1 FROM PUBLIC;\n",
            variables={},
        )

    def _clear_stale_server(self) -> None:
        """Leave no earlier server on this data directory, and no pid file of a dead one."""
        pid, _ = self._postmaster_pid_and_port()
        if pid is None:
            return
        if self._is_our_postmaster(pid):
            logger.warning(
                "stopping a PostgreSQL already running on the data directory",
                extra={"data_dir": self.data_dir, "pid": pid},
            )
            self._stop_postmaster(pid)
        else:
            # The server died without cleaning up. postgres would usually detect that, but not
            # when the pid has since been reused by another process.
            logger.warning(
                "removing the postmaster.pid of a dead server",
                extra={"data_dir": self.data_dir, "pid": pid},
            )
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def server_pids(self) -> list[int]:
        """The postmaster and its live children (each backend runs in a session of its own)."""
        pid = self.pid
        return [pid, *child_pids(pid)] if pid is not None else []

    def _stop_postmaster(self, pid: int) -> bool:
        """A fast shutdown; whether it took more (an immediate shutdown or a kill)."""
        # Every postgres child calls setsid(), so no process group covers the whole server:
        # remember the children to check them once the postmaster is gone.
        pids = [pid, *child_pids(pid)]
        forced = False
        for mode in ("fast", "immediate"):
            self._run_as_server_user(
                [self.bindir / "pg_ctl", "-D", self.data_dir, "-m", mode, "-w", "-t", "60", "stop"],
                timeout=70,
            )
            if not pid_alive(pid):
                break
            forced = True
            logger.warning("PostgreSQL survived pg_ctl stop", extra={"pid": pid, "mode": mode})
        leftovers = [p for p in pids if pid_alive(p)]
        if leftovers:
            logger.warning(
                "killing PostgreSQL processes left after stop", extra={"pids": leftovers}
            )
            for leftover in leftovers:
                kill_group(leftover, grace=5.0)
        return forced or bool(leftovers)

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
        with open_private_log(self.log_path) as log:
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
            SUPERUSER,
            "-d",
            database,
        ]
        # Variables are set on stdin, not with -v: a command line is visible to every local user
        # (ps), and some values are password verifiers. psql interpolates :'var' in stdin only.
        settings = "".join(
            f"\\set {name} {_psql_quote(value)}\n" for name, value in variables.items()
        )
        result = subprocess.run(
            argv,
            input=settings + script,
            capture_output=True,
            text=True,
            env={**_clean_env(), "PGCONNECT_TIMEOUT": "10", "PGPASSWORD": self.password},
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise InfraError(f"psql on database {database!r} failed: {result.stderr.strip()}")


def _psql_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'"


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802, RFC 7677).

    Sending the verifier instead of the password means the password never reaches the server,
    so it cannot end up in its log (a failed statement is logged with its text).
    """
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _clean_env() -> dict[str, str]:
    # PGHOST, PGOPTIONS and friends from the caller's shell must not redirect our tools.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}
