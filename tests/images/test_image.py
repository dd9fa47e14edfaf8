"""Every service image as it is deployed: built by `make images`' own script, run with podman
as the Kubernetes manifests (k8s/base) run it.

Each container gets a read-only root filesystem (and none of podman's extra tmpfs mounts on
/run and /var/tmp, which a pod does not have), a writable /tmp, the caller keys mounted
read-only, and the volumes its Deployment mounts (the archive's spool, the signing token); it
runs as the image's user 10001 with every capability dropped. All eight services (and the
documents image's text worker) run together, so that the gateway's `/readyz`, which asks every
service's health, can answer. The backing servers are the real ones from the launcher's
fixtures, on this machine's loopback, which the containers share (--network host); each
container gets the environment `vanban up` would give its service (AgencyProcesses.env).

Besides the checks, the module prints its figures (build time, image size, migrate and start
time, idle memory) for sizing the Deployments' requests and limits.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2

from vanban.gateway.api.auth import ACCESS_KEY_FILE
from vanban.launcher.infra import NatsServer, SeaweedServer, free_port
from vanban.launcher.infra.axis import AxisAgency, AxisServer
from vanban.launcher.infra.files import new_password
from vanban.launcher.infra.seaweed import S3Identity
from vanban.launcher.platform import DATABASE_SERVICES, PEERS, SERVICES, WORKERS
from vanban.platform.caller import ensure_keypair, load_or_create_private_key
from vanban.platform.grpc.health import health_check

pytestmark = pytest.mark.images

REPO = Path(__file__).resolve().parents[2]
TAG = "test"
AGENCY = "000.00.00.H99"
IMAGE_UID = 10001
# The Deployments' emptyDir for /tmp (sizeLimit).
TMP_SIZE = "256m"
# crun fails on this machine's cgroups and rlimits; runc with these limits works. The rest is
# the Deployments' securityContext: readOnlyRootFilesystem, no capabilities, no privilege
# escalation; /tmp is the one writable place every container has.
PODMAN_RUN = [
    "podman",
    "run",
    "--runtime",
    "runc",
    "--ulimit",
    "nofile=4096:4096",
    "--ulimit",
    "nproc=4096:4096",
    "--network",
    "host",
    "--read-only",
    "--read-only-tmpfs=false",
    "--tmpfs",
    f"/tmp:rw,size={TMP_SIZE},mode=1777",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
]
# Each container by name: the service whose image it runs and the arguments it gets (the
# launcher's workers run from their service's image).
CONTAINERS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{service: (service, ()) for service in SERVICES},
    **{worker: (service, tuple(command)) for worker, (service, *command) in WORKERS.items()},
}
# The launcher's order: the services, then the workers and the gateway, which wants them all.
START_ORDER = (*SERVICES[:-1], *WORKERS, SERVICES[-1])
STOP_ORDER = tuple(reversed(START_ORDER))
# Where the Deployments mount writable volumes besides /tmp, and what the container is told.
SPOOL = "/spool"
TOKEN = "/token"
WRITABLE_VOLUMES = {"archive": (SPOOL,), "signing": (TOKEN,)}
# Mounts of the kernel's and the runtime's (proc, sysfs, devices), not of the image.
_PSEUDO = re.compile(r"^/(proc|sys|dev)(/|$)")


@dataclass
class Container:
    name: str
    service: str
    args: tuple[str, ...]
    port: int
    options: list[str]
    http_port: int | None = None
    migrate: subprocess.CompletedProcess[str] | None = None
    migrate_seconds: float | None = None
    serving_after: float | None = None
    failure: str | None = None
    figures: dict[str, str] = field(default_factory=dict)

    @property
    def image(self) -> str:
        return image_name(self.service)


@dataclass
class Deployment:
    containers: dict[str, Container]
    gateway_ready_after: float | None
    readiness: str
    build: dict[str, str]


def image_name(service: str) -> str:
    return f"localhost/vanban-{service}:{TAG}"


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def health(port: int) -> str:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            answer = health_check(channel)(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError as exc:
            return str(exc.code().name)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)


def readyz(port: int) -> httpx.Response | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=3)
    except httpx.HTTPError:
        return None


def logs(name: str, *, tail: int | None = 4000) -> str:
    answer = podman("logs", name)
    output = answer.stdout + answer.stderr
    return output[-tail:] if tail else output


def state(name: str) -> str:
    return podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()


def give_to_image_user(path: Path, mode: int) -> None:
    """As the Deployments' fsGroup does: the image's group owns what it must read or write."""
    if os.geteuid() == 0:
        os.chown(path, 0, IMAGE_UID)
        path.chmod(mode)
    else:  # rootless podman maps the image's user elsewhere: open it to everyone
        path.chmod(mode | (0o007 & (mode >> 3)))


@pytest.fixture(scope="module")
def built() -> dict[str, str]:
    """Every service's image, built by tools/build-images; its report of the build times."""
    missing = [tool for tool in ("buildah", "podman", "runc") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: `make test-images` installs them")
    result = subprocess.run(
        [str(REPO / "tools" / "build-images")],
        env={**os.environ, "IMAGE_TAG": TAG},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    times = dict(re.findall(r"^built localhost/vanban-(\S+):\S+ in (\d+ s)$", result.stdout, re.M))
    assert sorted(times) == sorted(SERVICES), result.stdout
    times["all"] = result.stdout.strip().splitlines()[-1]
    return times


@dataclass
class Backing:
    """The backing servers and what the containers are given of them."""

    root: Path
    nats: NatsServer
    seaweed: SeaweedServer
    s3: S3Identity
    bucket: str
    axis: AxisServer
    databases: dict[str, str]
    keys: Path
    token_pin: str = field(default_factory=new_password, repr=False)
    token_so_pin: str = field(default_factory=new_password, repr=False)


@pytest.fixture(scope="module")
def deployment(
    built: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    make_database: Callable[..., str],
    nats_server: NatsServer,
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("images")
    root.chmod(0o755)  # the image's user gets through to the volumes
    bucket = "vanban-" + AGENCY.lower().replace(".", "-")
    s3 = S3Identity("agency", (bucket,))
    with ExitStack() as stack:
        seaweed = stack.enter_context(SeaweedServer(root / "seaweedfs", identities=[s3]))
        seaweed.ensure_bucket(bucket)
        backing = Backing(
            root=root,
            nats=nats_server,
            seaweed=seaweed,
            s3=s3,
            bucket=bucket,
            axis=stack.enter_context(AxisServer(root / "axis", [AxisAgency(AGENCY)])),
            databases={s: make_database(f"image_{s}") for s in DATABASE_SERVICES},
            keys=caller_keys(root / "keys"),
        )
        containers = {
            name: Container(
                name=f"vanban-image-{name}-{os.getpid()}",
                service=service,
                args=args,
                port=free_port(),
                options=[],
                http_port=free_port() if name == "gateway" else None,
            )
            for name, (service, args) in CONTAINERS.items()
        }
        for container in containers.values():
            container.options = run_options(container, containers, backing)
        stack.callback(remove, list(containers.values()))

        init_token(containers["signing"], backing)
        # Each Deployment's init container: its migrations, by the image's `migrate`.
        for name in START_ORDER:
            container = containers[name]
            if container.args:
                continue
            began = time.monotonic()
            container.migrate = subprocess.run(
                [*PODMAN_RUN, "--rm", *container.options, container.image, "migrate"],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
            container.migrate_seconds = time.monotonic() - began

        for name in START_ORDER:
            start(containers[name])
        gateway_ready_after, readiness = wait_ready(containers["gateway"])
        # Idle: started, ready, nothing asked of them but health.
        time.sleep(5)
        for container in containers.values():
            if container.failure is None:
                container.figures = measure(container.name)
        yield Deployment(containers, gateway_ready_after, readiness, built)


def run_options(
    container: Container, containers: dict[str, Container], backing: Backing
) -> list[str]:
    """`podman run` options: the environment `vanban up` gives the service (see
    AgencyProcesses.env) and the volumes its Deployment mounts."""
    service = container.service
    prefix = f"VANBAN_{service.upper()}_"
    env = {
        "VANBAN_AGENCY_CODE": AGENCY,
        "VANBAN_KEYS_DIR": "/keys",
        "VANBAN_NATS_URL": backing.nats.user_url(service),
        "VANBAN_PEERS": json.dumps(
            {peer: f"127.0.0.1:{containers[peer].port}" for peer in PEERS.get(service, ())}
        ),
        "OTEL_SDK_DISABLED": "true",
        prefix + "GRPC_PORT": str(container.port),
    }
    if service in backing.databases:
        env[prefix + "DATABASE_URL"] = backing.databases[service]
    volumes = [f"{backing.keys}:/keys:ro"]
    if service == "archive":
        env |= {
            prefix + "S3_ENDPOINT": backing.seaweed.endpoint,
            prefix + "S3_ACCESS_KEY": backing.s3.access_key,
            prefix + "S3_SECRET_KEY": backing.s3.secret_key,
            prefix + "BUCKET": backing.bucket,
            prefix + "SPOOL_DIR": SPOOL,
        }
        volumes.append(f"{volume(backing.root / 'spool', 0o770)}:{SPOOL}:rw")
    if service == "signing":
        env |= {
            "SOFTHSM2_CONF": f"{TOKEN}/softhsm2.conf",
            prefix + "TOKEN_PIN": backing.token_pin,
            prefix + "AGENCY_NAME": "Ủy ban nhân dân tỉnh Demo",
            prefix + "WORK_DIR": "/tmp",
            prefix + "TRUST_DIR": "/trust",
        }
        volumes += [f"{token_volume(backing)}:{TOKEN}:rw", f"{trust_dir(backing)}:/trust:ro"]
    if service == "gateway":
        env[prefix + "HTTP_PORT"] = str(container.http_port)
    if service == "exchange":
        env[prefix + "AXIS_URL"] = backing.axis.agency_url(AGENCY)
    options = [option for volume in volumes for option in ("--volume", volume)]
    return options + [option for item in env.items() for option in ("--env", "=".join(item))]


def init_token(signing: Container, backing: Backing) -> None:
    """The signing Deployment's init container: the SoftHSM2 token, made on its volume by the
    image's `init-softhsm`."""
    init = subprocess.run(
        [
            *PODMAN_RUN,
            "--rm",
            "--volume",
            f"{token_volume(backing)}:{TOKEN}:rw",
            "--env",
            f"VANBAN_SIGNING_TOKEN_PIN={backing.token_pin}",
            "--env",
            f"VANBAN_SIGNING_TOKEN_SO_PIN={backing.token_so_pin}",
            signing.image,
            "init-softhsm",
            "--dir",
            TOKEN,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr


def caller_keys(keys: Path) -> Path:
    """The keys the Deployments project from their secrets: every service's caller-signing
    pair, and the gateway's access-token key (which the gateway makes when it is missing,
    which it could not do on a read-only mount)."""
    ensure_keypair(keys)
    load_or_create_private_key(keys / ACCESS_KEY_FILE)
    give_to_image_user(keys, 0o750)
    for path in keys.iterdir():
        give_to_image_user(path, 0o440)  # the Deployments' defaultMode
    return keys


def token_volume(backing: Backing) -> Path:
    """The signing token's volume (a PersistentVolume given to the pod's fsGroup)."""
    return volume(backing.root / "token", 0o770)


def trust_dir(backing: Backing) -> Path:
    """The national roots the signing service trusts (a ConfigMap, here none)."""
    return volume(backing.root / "trust", 0o750)


def volume(path: Path, mode: int) -> Path:
    if not path.exists():
        path.mkdir()
        give_to_image_user(path, mode)
    return path


def start(container: Container) -> None:
    """Runs the container and waits until it answers its health check as SERVING; a failure
    is recorded on the container for its test, and the others start all the same."""
    if container.migrate is not None and container.migrate.returncode != 0:
        container.failure = "migrate failed"
        return
    began = time.monotonic()
    run = podman(
        *PODMAN_RUN[1:], "--detach", "--name", container.name, *container.options,
        container.image, *container.args,
    )  # fmt: skip
    if run.returncode != 0:
        container.failure = f"podman run: {run.stderr}"
        return
    deadline = began + 120
    while (answer := health(container.port)) != "SERVING":
        if (now := state(container.name)) != "running" or time.monotonic() > deadline:
            container.failure = f"{now}, health {answer}:\n{logs(container.name)}"
            return
        time.sleep(0.2)
    container.serving_after = time.monotonic() - began


def wait_ready(gateway: Container) -> tuple[float | None, str]:
    """Seconds from the gateway's SERVING to its first `/readyz` 200 (None if it never came),
    and its last answer."""
    if gateway.failure is not None or gateway.http_port is None:
        return None, "the gateway did not serve"
    began = time.monotonic()
    last = "no answer"
    while time.monotonic() < began + 60:
        answer = readyz(gateway.http_port)
        if answer is not None:
            last = f"{answer.status_code} {answer.text}"
            if answer.status_code == 200:
                return time.monotonic() - began, last
        time.sleep(0.2)
    return None, last


def measure(name: str) -> dict[str, str]:
    """The container's memory: the resident set of all its processes and the anonymous part
    of it (its own heap, not the shared libraries' pages), and podman's figure for its cgroup
    (what the kernel charges it, page cache included; pages another container touched first
    are charged there)."""
    pid = podman("inspect", "--format", "{{.State.Pid}}", name).stdout.strip()
    namespace = os.readlink(f"/proc/{pid}/ns/pid")
    kib = {"VmRSS": 0, "RssAnon": 0}
    processes = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns" / "pid") != namespace:
                continue
            status = (entry / "status").read_text()
        except OSError:  # gone meanwhile
            continue
        processes += 1
        for key, value in re.findall(r"^(VmRSS|RssAnon):\s+(\d+) kB$", status, re.M):
            kib[key] += int(value)
    stats = podman("stats", "--no-stream", "--format", "{{.MemUsage}}", name).stdout.strip()
    return {
        "rss": f"{kib['VmRSS'] / 1024:.0f} MiB",
        "anon": f"{kib['RssAnon'] / 1024:.0f} MiB",
        "processes": str(processes),
        "cgroup": stats.split(" / ")[0],
    }


def remove(containers: Iterable[Container]) -> None:
    names = [container.name for container in containers]
    podman("rm", "--force", "--ignore", "--time", "0", *names, timeout=120)


def process_owners(name: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each process of the container by its PID there: its user and group IDs (real,
    effective, saved, filesystem)."""
    found = podman("exec", name, "sh", "-c", "cat /proc/[0-9]*/status")
    assert found.returncode == 0, found.stderr
    owners: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for process in found.stdout.split("Name:")[1:]:
        ids = dict(re.findall(r"^(Pid|Uid|Gid):\s+(.*)$", process, re.M))
        owners[ids["Pid"]] = (tuple(ids["Uid"].split()), tuple(ids["Gid"].split()))
    return owners


def writable_mounts(name: str) -> set[str]:
    """The container's mount points it can write to, leaving out the kernel's and the
    runtime's (proc, sysfs, devices): with a read-only root, only /tmp and its volumes."""
    mounts = podman("exec", name, "cat", "/proc/1/mounts")
    assert mounts.returncode == 0, mounts.stderr
    found = set()
    for line in mounts.stdout.splitlines():
        _device, point, _kind, options, *_ = line.split()
        if "rw" in options.split(",") and not _PSEUDO.match(point):
            found.add(point)
    return found


@pytest.mark.parametrize("name", START_ORDER)
def test_the_image_serves_read_only_as_its_user(deployment: Deployment, name: str) -> None:
    container = deployment.containers[name]
    if container.migrate is not None:
        migrated = container.migrate
        assert migrated.returncode == 0, (migrated.stdout + migrated.stderr)[-4000:]
    assert container.failure is None, f"{name} did not serve: {container.failure}"
    assert health(container.port) == "SERVING"

    # The image names its user by number (a pod's runAsNonRoot can check it), and every
    # process of the container runs as it, user and group: the service's own (PID 1), its
    # workers (signing's), and what is exec'd in it.
    user = podman("image", "inspect", "--format", "{{.Config.User}}", container.image)
    assert user.stdout.strip() == str(IMAGE_UID)
    owners = process_owners(container.name)
    assert "1" in owners and len(owners) >= 2, owners  # the service, and the exec'd shell
    assert set(owners.values()) == {((str(IMAGE_UID),) * 4,) * 2}, owners
    assert podman("exec", container.name, "id", "-u").stdout.strip() == str(IMAGE_UID)

    # The root filesystem is read-only, and nothing but /tmp and the Deployment's volumes is
    # writable: a service that needs to write elsewhere fails to start above.
    read_only = podman("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", container.name)
    assert read_only.stdout.strip() == "true"
    touch = podman("exec", container.name, "touch", "/app/.written")
    assert touch.returncode != 0 and "Read-only file system" in touch.stderr, touch
    assert writable_mounts(container.name) == {"/tmp", *WRITABLE_VOLUMES.get(name, ())}


def test_the_gateway_is_ready_when_every_service_serves(deployment: Deployment) -> None:
    gateway = deployment.containers["gateway"]
    assert gateway.http_port is not None
    assert deployment.gateway_ready_after is not None, deployment.readiness
    answer = readyz(gateway.http_port)
    assert answer is not None and answer.status_code == 200, answer and answer.text
    body = answer.json()
    assert body["status"] == "ready"
    assert body["checks"] == dict.fromkeys(SERVICES[:-1], "SERVING")


def test_figures(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    """Prints each image's figures (build time, size, migrate and start time, idle memory);
    the other tests check."""
    sizes = dict(
        line.split(maxsplit=1)
        for line in podman(
            "image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"
        ).stdout.splitlines()
    )
    rows = [("container", "build", "size", "migrate", "serving", "RSS", "anon", "cgroup", "procs")]
    for name in START_ORDER:
        c = deployment.containers[name]
        rows.append(
            (
                name,
                deployment.build.get(name, "-") if not c.args else "-",
                sizes.get(c.image, "?"),
                f"{c.migrate_seconds:.1f} s" if c.migrate_seconds is not None else "-",
                f"{c.serving_after:.1f} s" if c.serving_after is not None else "failed",
                c.figures.get("rss", "-"),
                c.figures.get("anon", "-"),
                c.figures.get("cgroup", "-"),
                c.figures.get("processes", "-"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows
    )
    ready = deployment.gateway_ready_after
    with capsys.disabled():
        print(f"\n{table}\n{deployment.build['all']}")
        print(f"gateway /readyz 200 {ready:.1f} s after its gRPC SERVING" if ready else "")


@pytest.mark.parametrize("name", STOP_ORDER)
def test_the_image_stops_on_sigterm(deployment: Deployment, name: str) -> None:
    """The orchestrator's SIGTERM reaches Python itself (the shell exec'd it), which drains
    and exits 0 well within podman's 30 s before its kill."""
    container = deployment.containers[name]
    assert container.failure is None, f"{name} did not serve"
    stopping = time.monotonic()
    assert podman("stop", "--time", "30", container.name).returncode == 0
    took = time.monotonic() - stopping
    exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", container.name)
    output = logs(container.name, tail=None)
    assert exit_code.stdout.strip() == "0", output[-4000:]
    # The Deployments give 20 s, the first 5 of which their preStop hook sleeps.
    assert took < 15, f"stopping took {took:.1f} s"
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    # It got to the end of its shutdown (servers drained, NATS and the database closed).
    assert [r for r in records if r.get("message") == "service stopped"], records[-5:]
