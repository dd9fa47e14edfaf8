"""The whole platform, started through the launcher's own code, as `vanban up` starts it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.oidc_provider import OidcProvider
from tests.e2e.otlp import OtlpReceiver
from tests.e2e.support import Gateway
from vanban.launcher.infra import free_port, free_port_block
from vanban.launcher.infra.process import group_members
from vanban.launcher.platform import AgencySpec, Platform

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytestmark` in a conftest marks nothing; this makes `-m e2e` select exactly these tests.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


def start_platform(
    otlp: OtlpReceiver | None, *, extra_env: dict[str, str] | None = None, replicas: int = 1
) -> tuple[Platform, Path]:
    # Not under pytest's 0700 tmp dirs: as root, PostgreSQL runs as postgres and must reach it.
    data_dir = Path(tempfile.mkdtemp(prefix="vanban-e2e-"))
    data_dir.chmod(0o755)
    env = {
        "OTEL_METRICS_EXPORTER": "none",
        "VANBAN_LOG_LEVEL": "INFO",
        # A short lockout window, so the lockout test can also watch the lock lift, and an
        # account-wide limit that parallel guesses reach well within it.
        # 30 s: ten password checks fit in it even on a loaded machine.
        "VANBAN_GATEWAY_LOCKOUT_WINDOW_SECONDS": "30",
        "VANBAN_GATEWAY_SIGN_IN_ACCOUNT_MAX_FAILURES": "15",
        "VANBAN_GATEWAY_DELEGATION_CACHE_SECONDS": "2",
        # Tests make units and name their heads, then act at once: the workflow asks the
        # directory every time here (its 5 s cache is bench/workflow.py's and production's).
        "VANBAN_WORKFLOW_PEER_CACHE_SECONDS": "0",
        # One signing process per agency (two by default): the pool is exercised, and the
        # platforms these tests start and restart spawn half as many.
        "VANBAN_SIGNING_WORKERS": "1",
        # The run's session tokens (clerk_token, ...) are used for the whole suite, which on a
        # loaded machine outlasts the 15-minute default (tokens expired in its last tests).
        "VANBAN_GATEWAY_ACCESS_TOKEN_TTL_SECONDS": "3600",
        # A webhook endpoint the tests take down is tried again after a second (10 s by default).
        "VANBAN_NOTIFY_WEBHOOK_RETRY_FIRST_SECONDS": "1",
        "VANBAN_NOTIFY_WEBHOOK_RETRY_LONGEST_SECONDS": "2",
    }
    if otlp is not None:
        env.update(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
                "OTEL_EXPORTER_OTLP_INSECURE": "true",
                "OTEL_BSP_SCHEDULE_DELAY": "100",
            }
        )
    env.update(extra_env or {})
    platform = Platform(
        data_dir, gateway_base_port=free_port(), env=env, fast=True, replicas=replicas
    )
    platform.start()
    return platform, data_dir


def stop_platform(platform: Platform, data_dir: Path) -> None:
    pids = [p.pid for a in platform.agencies for p in a.processes.values() if p.pid]
    pids += [s.pid for s in (platform.postgres, platform.nats, platform.seaweed) if s.pid]
    unclean = platform.stop()
    leftovers = [pid for pid in pids if group_members(pid)]
    shutil.rmtree(data_dir, ignore_errors=True)
    assert not leftovers, f"processes left behind: {leftovers}"
    # Each one cut off whatever it was doing: a defect, not a detail of shutting down.
    assert unclean == [], f"did not exit on SIGTERM and were killed: {unclean}"


@pytest.fixture(scope="session")
def oidc() -> Iterator[OidcProvider]:
    provider = OidcProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def platform(otlp: OtlpReceiver, oidc: OidcProvider) -> Iterator[Platform]:
    started, data_dir = start_platform(otlp, extra_env=oidc.env())
    yield started
    stop_platform(started, data_dir)


@pytest.fixture(scope="session")
def gateway(platform: Platform) -> Gateway:
    return Gateway(platform.agencies[0].gateway_url)


@pytest.fixture(scope="session")
def clerk_token(gateway: Gateway) -> str:
    return gateway.token("vanthu")


A, B = "000.00.00.H99", "000.00.00.H98"


@pytest.fixture(scope="session")
def two(otlp: OtlpReceiver) -> Iterator[Platform]:
    """Two agencies side by side on one machine, joined by the local exchange axis (shared by
    the tests of both: each start costs a minute). Their spans go to `otlp`: a document's trace
    is followed from one agency to the other."""
    data_dir = Path(tempfile.mkdtemp(prefix="vanban-two-"))
    data_dir.chmod(0o755)
    # One port for each agency's gateway (base + index): both taken now, so that no other
    # server of the run is handed the second one (it was, once: "address already in use").
    base = free_port_block(2)
    platform = Platform(
        data_dir,
        [AgencySpec(A), AgencySpec(B, name="Ủy ban nhân dân tỉnh Thử nghiệm")],
        gateway_base_port=base,
        env={
            "VANBAN_SIGNING_WORKERS": "1",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
        fast=True,
    )
    try:
        platform.start()
        yield platform
    finally:
        pids = [p.pid for a in platform.agencies for p in a.processes.values() if p.pid]
        unclean = platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        assert [pid for pid in pids if group_members(pid)] == []
        assert unclean == [], f"did not exit on SIGTERM and were killed: {unclean}"
