"""A service image as it is deployed: built by `make images`' own script, run with podman.

The directory service, since it uses most of what an image must carry: its migrations (the
package is installed non-editable), the PostgreSQL driver, NATS, the gRPC health service.
The backing servers are the real ones from the launcher's fixtures, on this machine's
loopback, which the container shares (--network host).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from vanban.launcher.infra import NatsServer, free_port
from vanban.platform.caller import ensure_keypair
from vanban.platform.grpc.health import health_check

pytestmark = pytest.mark.images

REPO = Path(__file__).resolve().parents[2]
SERVICE = "directory"
IMAGE = f"localhost/vanban-{SERVICE}:test"
# crun fails on this machine's cgroups and rlimits; runc with these limits works.
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
]
IMAGE_UID = 10001


@pytest.fixture(scope="module")
def image() -> str:
    missing = [tool for tool in ("buildah", "podman", "runc") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: `make test-images` installs them")
    started = time.monotonic()
    subprocess.run(
        [str(REPO / "tools" / "build-images"), SERVICE],
        env={**os.environ, "IMAGE_TAG": "test"},
        check=True,
        timeout=1200,
    )
    print(f"built {IMAGE} in {time.monotonic() - started:.0f} s")
    return IMAGE


@pytest.fixture
def service_env(
    tmp_path: Path, make_database: Callable[..., str], nats_server: NatsServer
) -> tuple[list[str], int]:
    """`podman run` options: the environment `vanban up` would give the service, and the
    caller-verifying key mounted read-only (readable by the image's user)."""
    keys = tmp_path / "keys"
    ensure_keypair(keys)
    if os.geteuid() == 0:
        for path in (keys, *keys.iterdir()):
            os.chown(path, IMAGE_UID, IMAGE_UID)
    port = free_port()
    env = {
        "VANBAN_AGENCY_CODE": "000.00.00.H99",
        "VANBAN_KEYS_DIR": "/keys",
        "VANBAN_NATS_URL": nats_server.user_url(SERVICE),
        "VANBAN_PEERS": json.dumps({"archive": f"127.0.0.1:{free_port()}"}),
        "VANBAN_DIRECTORY_DATABASE_URL": make_database("image"),
        "VANBAN_DIRECTORY_GRPC_PORT": str(port),
        "OTEL_SDK_DISABLED": "true",
    }
    options = ["--volume", f"{keys}:/keys:ro"]
    for name, value in env.items():
        options += ["--env", f"{name}={value}"]
    return options, port


@pytest.fixture
def container() -> Iterator[str]:
    name = f"vanban-image-test-{os.getpid()}"
    yield name
    subprocess.run(["podman", "rm", "--force", "--ignore", name], capture_output=True, check=False)


def health(port: int) -> str:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            answer = health_check(channel)(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError as exc:
            return str(exc.code().name)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_the_image_migrates_serves_and_stops_on_sigterm(
    image: str, service_env: tuple[list[str], int], container: str
) -> None:
    options, port = service_env
    started = time.monotonic()

    # Arguments after the image name reach the service's own command line.
    migrate = subprocess.run(
        [*PODMAN_RUN, "--rm", *options, image, "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    run = podman("run", "--detach", "--name", container, *PODMAN_RUN[2:], *options, image)
    assert run.returncode == 0, run.stderr
    deadline = time.monotonic() + 90
    while (answer := health(port)) != "SERVING":
        state = podman("inspect", "--format", "{{.State.Status}}", container).stdout.strip()
        if state != "running" or time.monotonic() > deadline:
            pytest.fail(f"{SERVICE} {state}, health {answer}:\n{podman('logs', container).stderr}")
        time.sleep(0.3)
    print(f"{SERVICE} image serving {time.monotonic() - started:.1f} s after migrate began")

    assert podman("exec", container, "id", "-u").stdout.strip() == str(IMAGE_UID)

    # The orchestrator's SIGTERM reaches Python itself (the shell exec'd it), which drains
    # and exits 0 well within podman's 30 s before its kill.
    stopping = time.monotonic()
    assert podman("stop", "--time", "30", container).returncode == 0
    took = time.monotonic() - stopping
    exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", container).stdout.strip()
    logs = podman("logs", container)
    assert exit_code == "0", logs.stdout + logs.stderr
    assert took < 20, f"stopping took {took:.1f} s"
    records = [
        json.loads(line)
        for line in (logs.stdout + logs.stderr).splitlines()
        if line.startswith("{")
    ]
    # It got to the end of its shutdown (servers drained, NATS and the database closed).
    assert [r for r in records if r.get("message", "").endswith("stopped")], records[-5:]
