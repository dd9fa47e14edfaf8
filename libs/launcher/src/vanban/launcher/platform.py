"""The whole platform on one machine: backing servers plus every service as its own process.

Used by `vanban up` and, as a library, by the end-to-end tests, so tests start the platform
exactly as a person does. All state lives under one data directory, readable by its owner
only (0700; 0711 as root when the postgres user must get through to its cluster):

    <data-dir>/secrets.json                        generated passwords and keys, 0600, made once
    <data-dir>/infra/postgres/                     the shared PostgreSQL cluster and its log
    <data-dir>/infra/seaweedfs/                    the shared S3 server, its data, identities, log
    <data-dir>/infra/axis/                         the exchange axis (NATS JetStream) and its log
    <data-dir>/agencies/<code>/nats/               the agency's own NATS JetStream
    <data-dir>/agencies/<code>/keys/               caller-signing and gateway keys, made at first start
    <data-dir>/agencies/<code>/logs/<svc>.log      each service's JSON log (0600); with replicas,
                                                   <svc>-2.log, <svc>-3.log ... for the others
    <data-dir>/agencies/<code>/spool/              archive upload spool
    <data-dir>/run/state.json                      what is running where, for `vanban status` (0600)

As root, when the postgres user cannot reach the data directory (under /root, say),
``infra/postgres`` is a link to the cluster kept in /var/lib/vanban/<id> (see ``cluster_home``).

No backing server lets anyone in without credentials, and each service gets its own: a
PostgreSQL role owning only its database, a NATS user allowed only its own subjects, stream
and durable consumers, and (for the archive) S3 keys limited to its agency's bucket.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2

from vanban.launcher.infra import InfraError, NatsServer, PostgresServer, SeaweedServer, free_port
from vanban.launcher.infra.axis import AxisAgency, AxisServer
from vanban.launcher.infra.files import SecretStore, open_private_log, private_dir, write_private
from vanban.launcher.infra.nats import NatsUser, service_permissions
from vanban.launcher.infra.postgres import cluster_home, server_user
from vanban.launcher.infra.process import ManagedProcess, Server, read_log_tail
from vanban.launcher.infra.seaweed import S3Identity
from vanban.platform.caller import ensure_keypair
from vanban.platform.events.durables import Durable, durables_of
from vanban.platform.grpc.health import health_check

logger = logging.getLogger(__name__)

# Start order; stop runs in reverse, the gateway first.
SERVICES = (
    "directory",
    "archive",
    "documents",
    "notify",
    "workflow",
    "signing",
    "exchange",
    "gateway",
)
# Processes of a service besides its server, by name: the service and the sub-command they run
# (`python -m vanban.<service> <command>`). Each answers gRPC health on a port of its own; they
# start once the services are serving (their service has migrated the database) and stop with
# them.
WORKERS = {
    # Digitization: extracts documents' text (PDF text layer, else tesseract OCR) for search.
    "documents-text": ("documents", "textworker"),
}
DATABASE_SERVICES = (
    "directory",
    "archive",
    "documents",
    "notify",
    "workflow",
    "signing",
    "exchange",
    "gateway",
)
DEMO_AGENCY_CODE = "000.00.00.H99"
DEMO_AGENCY_NAME = "Ủy ban nhân dân tỉnh Demo"
DEMO_ABBREVIATION = "UBND"
DEMO_PASSWORD = "vanban-demo"
DEMO_ACCOUNTS = (
    ("vanthu", "văn thư (clerk)"),
    ("lanhdao", "lãnh đạo cơ quan (agency leader)"),
    ("truongphong", "trưởng phòng (unit head)"),
    ("chuyenvien", "chuyên viên (specialist)"),
    ("luutru", "lưu trữ (archivist)"),
    ("quantri", "quản trị (administrator)"),
)
# Whom each service calls (VANBAN_PEERS).
PEERS = {
    "gateway": ("directory", "documents", "archive", "notify", "workflow", "signing", "exchange"),
    "notify": ("directory",),
    "workflow": ("documents", "directory"),
    "directory": ("archive",),
    # Documents reads the directory and asks the workflow before numbering a draft; its text
    # worker (WORKERS) reads files from the archive.
    "documents": ("directory", "archive", "workflow"),
    # Signing reads the document, asks the workflow whether the caller may sign, reads names and
    # images from the directory and bytes from the archive, and records with documents.
    "signing": ("documents", "workflow", "directory", "archive"),
    # Exchange reads outgoing documents and registers incoming ones, keeps bytes in the archive,
    # signs and verifies packages with the agency's organisation key, reads the agency's name.
    "exchange": ("documents", "archive", "signing", "directory"),
    # The records read the documents a dossier holds (for its keeper) and mark them read-only at
    # a handover; the agency's name goes on the handover and disposition records.
    "archive": ("documents", "directory"),
}
# The durable consumers each service keeps, from the list the services name them from: its
# NATS user may make, read and ack exactly these (and see the streams they read), no other.
EVENT_CONSUMERS: dict[str, tuple[Durable, ...]] = {
    service: durables_of(service) for service in SERVICES
}


@dataclass
class AgencySpec:
    code: str
    name: str = DEMO_AGENCY_NAME
    abbreviation: str = DEMO_ABBREVIATION

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.code.lower())

    @property
    def bucket(self) -> str:
        return "vanban-" + re.sub(r"[^a-z0-9]+", "-", self.code.lower())


@dataclass
class ServiceState:
    name: str
    pid: int | None
    grpc_port: int
    log: str
    http_port: int | None = None
    # The service (or worker) this process is a replica of: its own name for the first.
    replica_of: str = ""


@dataclass
class AgencyState:
    code: str
    gateway_url: str
    services: dict[str, ServiceState] = field(default_factory=dict)


def replica_names(name: str, replicas: int) -> tuple[str, ...]:
    """The process names of a service's (or worker's) replicas: the first keeps the plain name,
    so its log, pid file and port are where a single process's are; then `<name>-2`, ..."""
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    return (name, *(f"{name}-{index}" for index in range(2, replicas + 1)))


def peer_target(addresses: Sequence[str]) -> str:
    """The gRPC target of a peer's replicas: one address as it is (host:port), several as one
    `ipv4:` target, over which the channel's round_robin policy spreads the calls."""
    if not addresses:
        raise ValueError("a peer needs at least one address")
    if len(addresses) == 1:
        return addresses[0]
    return "ipv4:" + ",".join(addresses)


def _s3_keys() -> dict[str, str]:
    return {"access_key": f"vanban-{secrets.token_hex(8)}", "secret_key": secrets.token_urlsafe(32)}


class AgencyProcesses:
    """One agency's set of service processes, with its own keys, databases and bucket."""

    def __init__(
        self, platform: Platform, spec: AgencySpec, gateway_port: int, *, replicas: int = 1
    ) -> None:
        """`replicas` processes of every service and worker, side by side (stateless: they
        share the service's database, stream and durable consumers)."""
        self.platform = platform
        self.spec = spec
        self.root = private_dir(platform.data_dir / "agencies") / spec.code
        private_dir(self.root)
        self.keys_dir = self.root / "keys"
        self.gateway_port = gateway_port
        self.replicas = replicas
        # Process names by service (or worker), and the service (or worker) of each process.
        self.replica_names = {name: replica_names(name, replicas) for name in (*SERVICES, *WORKERS)}
        self.replica_of = {
            process: name for name, processes in self.replica_names.items() for process in processes
        }
        self.ports = {name: free_port() for name in self.replica_of}
        # The gateway's first replica answers HTTP on the agency's gateway port; the others
        # each on a port of their own.
        self.http_ports = {
            name: gateway_port if index == 0 else free_port()
            for index, name in enumerate(self.replica_names["gateway"])
        }
        self.processes: dict[str, ManagedProcess] = {}
        # Each agency gets its own NATS: streams and durable consumers carry no agency in their
        # names, so a shared server would hand one agency's events to another's consumers.
        # Every service connects as its own user, with passwords made for this agency alone.
        stored = platform.secrets
        self.nats = NatsServer(
            self.root / "nats" / "data",
            admin_password=stored.get("nats", spec.code, "admin"),
            users=[
                NatsUser(
                    service,
                    stored.get("nats", spec.code, "users", service),
                    service_permissions(service, durables=EVENT_CONSUMERS[service]),
                )
                for service in SERVICES
            ],
        )

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def gateway_urls(self) -> list[str]:
        """Every gateway replica's URL, the first (`gateway_url`) first."""
        return [f"http://127.0.0.1:{port}" for port in self.http_ports.values()]

    def address(self, name: str) -> str:
        """The gRPC address of one process: a service's or worker's name is its first replica."""
        return f"127.0.0.1:{self.ports[name]}"

    def target(self, service: str) -> str:
        """How a peer reaches `service`: the addresses of all its replicas (`peer_target`)."""
        return peer_target([self.address(name) for name in self.replica_names[service]])

    def database_name(self, service: str) -> str:
        """The service's database, and the name of the role that owns it."""
        return f"{self.spec.slug}_{service}"

    def database_password(self, service: str) -> str:
        return str(self.platform.secrets.get("postgres", "roles", self.database_name(service)))

    def database_url(self, service: str) -> str:
        """The service's own DSN: its role, which can open no other service's database."""
        name = self.database_name(service)
        return self.platform.postgres.dsn(name, role=name, password=self.database_password(service))

    def bucket(self) -> str:
        return self.spec.bucket

    def env(self, service: str) -> dict[str, str]:
        p = self.platform
        prefix = f"VANBAN_{service.upper()}_"
        env = {
            **p.base_env,
            "VANBAN_AGENCY_CODE": self.spec.code,
            "VANBAN_KEYS_DIR": str(self.keys_dir),
            "VANBAN_NATS_URL": self.nats.user_url(service),
            "VANBAN_PEERS": json.dumps(
                {peer: self.target(peer) for peer in PEERS.get(service, ())}
            ),
            "OTEL_SERVICE_NAME": f"vanban-{service}",
            prefix + "GRPC_PORT": str(self.ports[service]),
        }
        if service in DATABASE_SERVICES:
            env[prefix + "DATABASE_URL"] = self.database_url(service)
        if service == "archive":
            keys = p.seaweed.identities[p.s3_identity_name(self.spec)]
            env.update(
                {
                    prefix + "S3_ENDPOINT": p.seaweed.endpoint,
                    prefix + "S3_ACCESS_KEY": keys.access_key,
                    prefix + "S3_SECRET_KEY": keys.secret_key,
                    prefix + "BUCKET": self.bucket(),
                    prefix + "SPOOL_DIR": str(self.root / "spool"),
                    # The demo agencies start with an approved dossier list for the year.
                    prefix + "DEMO_LIST": "true",
                }
            )
        if service == "signing":
            env.update(
                {
                    # The agency's own SoftHSM2 token (the embedded default's PKCS#11 token).
                    "SOFTHSM2_CONF": str(self.softhsm_dir / "softhsm2.conf"),
                    prefix + "TOKEN_PIN": self.token_pin("pin"),
                    prefix + "AGENCY_NAME": self.spec.name,
                    prefix + "WORK_DIR": str(self.root / "signing"),
                    # The agencies it runs trust each other's development CAs (ADR 0012).
                    prefix + "TRUST_DIR": str(p.trust_dir),
                    prefix + "CA_EXPORT": str(p.trust_dir / f"{self.spec.code}.pem"),
                }
            )
        if service == "notify":
            # On one machine the agency's systems are local too: webhooks to http and loopback
            # addresses are allowed here (never in production: docs/webhooks.md).
            env[prefix + "WEBHOOK_ALLOW_HTTP"] = "true"
            env[prefix + "WEBHOOK_ALLOW_PRIVATE"] = "true"
        if service == "gateway":
            env[prefix + "HTTP_PORT"] = str(self.gateway_port)
        if service == "exchange":
            # The agency's own account on the axis: any inbox to send to, only its own to read.
            env[prefix + "AXIS_URL"] = p.axis.agency_url(self.spec.code)
        return env

    @property
    def softhsm_dir(self) -> Path:
        return self.root / "softhsm"

    def token_pin(self, which: str) -> str:
        """The agency token's user ("pin") or security officer ("so_pin") PIN, made once."""
        return str(self.platform.secrets.get("signing", self.spec.code, which))

    def process_env(self, name: str) -> dict[str, str]:
        """The environment of one process (a replica of a service or of a worker)."""
        base = self.replica_of[name]
        service = WORKERS.get(base, (base,))[0]
        env = self.env(service)
        prefix = f"VANBAN_{service.upper()}_"
        env[prefix + "GRPC_PORT"] = str(self.ports[name])
        if name in self.http_ports:
            env[prefix + "HTTP_PORT"] = str(self.http_ports[name])
        # Which replica sent a span (Kubernetes names the pod here).
        attributes = [env.get("OTEL_RESOURCE_ATTRIBUTES", ""), f"service.instance.id={name}"]
        env["OTEL_RESOURCE_ATTRIBUTES"] = ",".join(filter(None, attributes))
        return env

    def process(self, name: str) -> ManagedProcess:
        """The process of a service or of a worker (WORKERS) by its name, or of one of their
        replicas by its (`replica_names`)."""
        if name not in self.processes:
            base = self.replica_of[name]
            service, *command = WORKERS.get(base, (base,))
            env = self.process_env(name)
            self.processes[name] = ManagedProcess(
                [sys.executable, "-m", f"vanban.{service}", *command],
                log_path=self.root / "logs" / f"{name}.log",
                pid_file=self.root / "run" / f"{name}.pid",
                env=env,
            )
        return self.processes[name]

    def prepare_storage(self) -> None:
        """Keys, directories, each service's database and role, the bucket (idempotent)."""
        ensure_keypair(self.keys_dir)
        for directory in ("run", "spool", "logs"):
            private_dir(self.root / directory)
        for service in DATABASE_SERVICES:
            name = self.database_name(service)
            self.platform.postgres.create_database(
                name, owner=name, password=self.database_password(service)
            )
        # The archive's keys may not create buckets: the bucket is made here, with object lock.
        self.platform.seaweed.ensure_bucket(self.bucket())
        self.prepare_token()

    def prepare_token(self) -> None:
        """The agency's SoftHSM2 token, made on its first start; its keys are made in it by the
        signing service."""
        log_path = self.root / "logs" / "signing-token.log"
        with open_private_log(log_path) as output:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "vanban.signing",
                    "init-softhsm",
                    "--dir",
                    str(self.softhsm_dir),
                ],
                env={
                    **self.platform.base_env,
                    "VANBAN_SIGNING_TOKEN_PIN": self.token_pin("pin"),
                    "VANBAN_SIGNING_TOKEN_SO_PIN": self.token_pin("so_pin"),
                },
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"the agency's signing token could not be made: see {log_path}")

    def prepare(self) -> None:
        """Storage, then the agency's directory entries (idempotent)."""
        self.prepare_storage()
        log_path = self.root / "logs" / "directory-bootstrap.log"
        with open_private_log(log_path) as output:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "vanban.directory",
                    "bootstrap",
                    "--agency-code",
                    self.spec.code,
                    "--agency-name",
                    self.spec.name,
                    "--abbreviation",
                    self.spec.abbreviation,
                    "--demo-password",
                    self.platform.demo_password,
                ],
                env=self.env("directory"),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=180,
                check=False,
            )
        if result.returncode != 0:
            raise InfraError("directory bootstrap failed", log_tail=read_log_tail(log_path))

    def start_service(self, service: str, *, wait: bool = True, timeout: float = 90.0) -> None:
        process = self.process(service)
        process.start()
        if wait:
            self.wait_healthy(service, timeout=timeout)

    def stop_service(self, service: str, *, grace: float = 20.0) -> bool:
        """SIGTERM; returns whether the service had to be killed after `grace` seconds."""
        # Services drain within their own 10 s shutdown_grace; this is the kill after that.
        if service in self.processes:
            return self.processes[service].stop(grace=grace)
        return False

    def health(self, service: str, *, timeout: float = 2.0) -> str:
        with grpc.insecure_channel(self.address(service)) as channel:
            try:
                answer = health_check(channel)(health_pb2.HealthCheckRequest(), timeout=timeout)
            except grpc.RpcError as exc:
                return exc.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)

    def wait_healthy(self, service: str, *, timeout: float) -> None:
        process = self.process(service)
        deadline = time.monotonic() + timeout
        while True:
            if not process.is_running():
                raise InfraError(f"{service} exited during start", log_tail=process.log_tail())
            if self.health(service, timeout=1.0) == "SERVING":
                return
            if time.monotonic() > deadline:
                raise InfraError(
                    f"{service} not healthy after {timeout:.0f} s", log_tail=process.log_tail()
                )
            time.sleep(0.2)

    def wait_ready(self, *, timeout: float = 60.0) -> None:
        """Until every gateway replica answers /readyz."""
        deadline = time.monotonic() + timeout
        for name, url in zip(self.http_ports, self.gateway_urls, strict=True):
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise InfraError(
                        f"the gateway did not become ready ({url})",
                        log_tail=self.process(name).log_tail(),
                    )
                time.sleep(0.2)

    def _addresses(self, name: str) -> str:
        return ", ".join(self.address(process) for process in self.replica_names[name])

    def start(self) -> None:
        self.prepare()
        self._progress("agency prepared (databases, keys, bucket, directory entries)")
        # Everything but the gateway starts at once; each runs its own migrations (replicas of
        # one service take turns, under the migrations' lock).
        backends = [name for service in SERVICES[:-1] for name in self.replica_names[service]]
        for name in backends:
            self.start_service(name, wait=False)

        def wait(service: str) -> None:
            for name in self.replica_names[service]:
                self.wait_healthy(name, timeout=120)
            self._progress(f"{service} serving (gRPC {self._addresses(service)})")

        with ThreadPoolExecutor(len(SERVICES)) as pool:
            list(pool.map(wait, SERVICES[:-1]))
        workers = [name for worker in WORKERS for name in self.replica_names[worker]]
        for name in workers:
            self.start_service(name, wait=False)
        gateways = self.replica_names["gateway"]
        for name in gateways:
            self.start_service(name, wait=False)
        for name in gateways:
            self.wait_healthy(name, timeout=90)
        self.wait_ready()
        for worker in WORKERS:
            for name in self.replica_names[worker]:
                self.wait_healthy(name, timeout=60)
            self._progress(f"{worker} working (health on gRPC {self._addresses(worker)})")
        # Last: the gateway's URL is what a person goes on with.
        self._progress(f"gateway serving ({', '.join(self.gateway_urls)})")

    def _progress(self, stage: str) -> None:
        several = len(self.platform.agencies) > 1
        self.platform.progress(f"{self.spec.code}: {stage}" if several else stage)

    def stop(self) -> list[str]:
        """Stops every service, the gateway first; returns those that had to be killed."""
        code = self.spec.code
        gateways = self.replica_names["gateway"]
        rest = [name for name in self.replica_of if name not in gateways]

        def stop_all(names: Sequence[str]) -> list[str | None]:
            with ThreadPoolExecutor(len(names)) as pool:
                return list(
                    pool.map(
                        lambda name: _stop_quietly(
                            f"{code} {name}", lambda: self.stop_service(name)
                        ),
                        names,
                    )
                )

        unclean = [*stop_all(gateways), *stop_all(rest)]
        return [what for what in unclean if what is not None]

    def state(self) -> AgencyState:
        return AgencyState(
            code=self.spec.code,
            gateway_url=self.gateway_url,
            services={
                name: ServiceState(
                    name=name,
                    pid=self.processes[name].pid if name in self.processes else None,
                    grpc_port=self.ports[name],
                    http_port=self.http_ports.get(name),
                    log=str(self.root / "logs" / f"{name}.log"),
                    replica_of=self.replica_of[name],
                )
                for name in self.replica_of
            },
        )


def _nats_stage(agency: AgencyProcesses) -> Callable[[], str]:
    several = len(agency.platform.agencies) > 1
    name = f"NATS JetStream of {agency.spec.code}" if several else "NATS JetStream"
    return lambda: f"messaging ready ({name}, {agency.nats.address})"


def _stop_quietly(what: str, stop: Callable[[], bool]) -> str | None:
    """Runs `stop`; `what` if it had to kill (or could not stop it at all), else None."""
    try:
        killed = stop()
    except Exception:
        logger.exception("could not stop a process", extra={"component": what})
        return what
    if killed:
        logger.error(
            "a process did not exit on SIGTERM in time and was killed", extra={"component": what}
        )
        return what
    return None


class Platform:
    def __init__(
        self,
        data_dir: Path,
        agencies: list[AgencySpec] | None = None,
        *,
        gateway_base_port: int = 8000,
        env: dict[str, str] | None = None,
        fast: bool = False,
        demo_password: str = DEMO_PASSWORD,
        progress: Callable[[str], None] = lambda stage: None,
        replicas: int = 1,
    ) -> None:
        """`progress` is told of each stage as it completes (from several threads at once);
        `replicas` processes run of every service and worker of each agency."""
        if replicas < 1:
            raise ValueError("replicas must be at least 1")
        self.data_dir = Path(data_dir).absolute()
        self.progress = progress
        self.demo_password = demo_password
        infra = self.data_dir / "infra"
        # As root the PostgreSQL server runs as the postgres user: it must get through the data
        # directory and infra/ to its own (0711: through, but not list or read). When it cannot
        # reach them anyway (under /root) its cluster lives elsewhere and nobody else needs to.
        through = 0o711 if server_user() is not None else 0o700
        for directory in (self.data_dir, infra):
            private_dir(directory, mode=through)
        postgres_home = cluster_home(infra / "postgres")
        if postgres_home != infra / "postgres":
            for directory in (self.data_dir, infra):
                private_dir(directory)
        for directory in (
            self.data_dir / "run",
            infra / "seaweedfs",
            infra / "axis",
            self.data_dir / "trust",
        ):
            private_dir(directory)
        self.secrets = SecretStore(self.data_dir / "secrets.json")
        self.postgres = PostgresServer(
            postgres_home / "data", fast=fast, password=self.secrets.get("postgres", "superuser")
        )
        specs = agencies or [AgencySpec(DEMO_AGENCY_CODE)]
        admin_keys = self.secrets.get("s3", "admin", generate=_s3_keys)
        self.seaweed = SeaweedServer(
            infra / "seaweedfs" / "data",
            access_key=admin_keys["access_key"],
            secret_key=admin_keys["secret_key"],
            identities=[
                S3Identity(
                    self.s3_identity_name(spec),
                    (spec.bucket,),
                    **self.secrets.get("s3", "agencies", spec.code, generate=_s3_keys),
                )
                for spec in specs
            ],
        )
        # One local axis for every agency it runs, standing in for the national one.
        self.axis = AxisServer(
            infra / "axis" / "data",
            [
                AxisAgency(spec.code, self.secrets.get("axis", "agencies", spec.code))
                for spec in specs
            ],
            admin_password=self.secrets.get("axis", "admin"),
        )
        self.base_env = {
            key: value for key, value in os.environ.items() if not key.startswith("VANBAN_")
        }
        self.base_env.update(env or {})
        self.agencies = [
            AgencyProcesses(self, spec, gateway_base_port + index, replicas=replicas)
            for index, spec in enumerate(specs)
        ]

    @property
    def trust_dir(self) -> Path:
        """Where each agency's signing service writes its development CA and reads the others'."""
        return self.data_dir / "trust"

    @property
    def state_path(self) -> Path:
        return self.data_dir / "run" / "state.json"

    @staticmethod
    def s3_identity_name(spec: AgencySpec) -> str:
        return f"agency-{spec.slug}"

    @property
    def nats(self) -> NatsServer:
        """The first agency's NATS (the only one in the usual single-agency run)."""
        return self.agencies[0].nats

    def start_backing_servers(self) -> None:
        """PostgreSQL, SeaweedFS, each agency's NATS and the exchange axis (with every agency's
        inbox), all at once."""
        # Each stage is named once its server is up, with where it listens.
        servers: list[tuple[Server, Callable[[], str]]] = [
            (self.postgres, lambda: f"database ready (PostgreSQL, 127.0.0.1:{self.postgres.port})"),
            (self.seaweed, lambda: f"object storage ready (SeaweedFS S3, {self.seaweed.endpoint})"),
            *((agency.nats, _nats_stage(agency)) for agency in self.agencies),
            (self.axis, lambda: f"exchange axis ready (NATS JetStream, {self.axis.address})"),
        ]

        def start(server: Server, stage: Callable[[], str]) -> None:
            server.start()
            self.progress(stage())

        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda entry: start(*entry), servers))

    def start(self) -> None:
        try:
            self.start_backing_servers()
            for agency in self.agencies:
                agency.start()
            self.write_state()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> list[str]:
        """Stops everything it can; one process refusing to stop does not keep the rest up.

        Returns what did not stop by itself (had to be killed, or could not be stopped): each
        one is a defect, since a kill cuts off work in flight.
        """
        unclean: list[str | None] = [what for agency in self.agencies for what in agency.stop()]
        servers: list[tuple[str, Server]] = [
            *((f"{agency.spec.code} NATS", agency.nats) for agency in self.agencies),
            ("exchange axis", self.axis),
            ("SeaweedFS", self.seaweed),
            ("PostgreSQL", self.postgres),
        ]
        for name, server in servers:
            unclean.append(_stop_quietly(name, server.stop))
        self.state_path.unlink(missing_ok=True)
        return [what for what in unclean if what is not None]

    def write_state(self) -> None:
        state = {
            "launcher_pid": os.getpid(),
            "infra": {
                "postgres": {"pid": self.postgres.pid, "port": self.postgres.port},
                "seaweedfs": {"pid": self.seaweed.pid, "s3_endpoint": self.seaweed.endpoint},
                "axis": {"pid": self.axis.pid, "port": self.axis.port},
                **{
                    f"nats {agency.spec.code}": {"pid": agency.nats.pid, "port": agency.nats.port}
                    for agency in self.agencies
                },
            },
            "agencies": [asdict(agency.state()) for agency in self.agencies],
        }
        write_private(self.state_path, json.dumps(state, indent=2))
