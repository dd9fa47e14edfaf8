"""`vanban up --replicas N`: names, ports, logs and peer targets of every service's replicas,
worked out without starting anything."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from vanban.launcher.cli import main
from vanban.launcher.infra import free_port
from vanban.launcher.platform import (
    PEERS,
    SERVICES,
    WORKERS,
    AgencyProcesses,
    Platform,
    peer_target,
    replica_names,
)
from vanban.platform.settings import ServiceSettings

PROCESSES = (*SERVICES, *WORKERS)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's 0700 tmp dirs: as root, the cluster's home must be reachable by the
    # postgres user (or the launcher keeps it elsewhere, which a unit test must not leave).
    path = Path(tempfile.mkdtemp(prefix="vanban-unit-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def agency(data_dir: Path, replicas: int) -> AgencyProcesses:
    return Platform(data_dir, gateway_base_port=free_port(), replicas=replicas).agencies[0]


def test_the_first_replica_keeps_the_plain_name_and_the_others_are_numbered() -> None:
    assert replica_names("documents", 1) == ("documents",)
    assert replica_names("documents-text", 3) == (
        "documents-text",
        "documents-text-2",
        "documents-text-3",
    )
    with pytest.raises(ValueError, match="at least 1"):
        replica_names("documents", 0)


def test_a_peer_of_one_address_is_that_address_and_of_several_one_ipv4_target() -> None:
    assert peer_target(["127.0.0.1:5001"]) == "127.0.0.1:5001"
    assert peer_target(["127.0.0.1:5001", "127.0.0.1:5002"]) == "ipv4:127.0.0.1:5001,127.0.0.1:5002"
    with pytest.raises(ValueError):
        peer_target([])


def test_every_service_and_worker_runs_n_processes_each_on_its_own_port(data_dir: Path) -> None:
    processes = agency(data_dir, 3)

    assert set(processes.replica_of) == {
        name for base in PROCESSES for name in replica_names(base, 3)
    }
    assert len(processes.replica_of) == 3 * len(PROCESSES)
    assert processes.replica_of["workflow-2"] == "workflow"
    assert processes.replica_of["documents-text-3"] == "documents-text"
    grpc_ports = list(processes.ports.values())
    http_ports = list(processes.http_ports.values())
    assert len(set(grpc_ports + http_ports)) == len(grpc_ports) + len(http_ports)
    # The first gateway answers where the README says; the others on ports of their own.
    assert list(processes.http_ports) == ["gateway", "gateway-2", "gateway-3"]
    assert http_ports[0] == processes.gateway_port
    assert processes.gateway_urls[0] == processes.gateway_url


def test_each_replica_has_its_own_port_log_and_instance_but_the_services_settings(
    data_dir: Path,
) -> None:
    processes = agency(data_dir, 2)

    second = processes.process("documents-2")
    assert second.argv[1:] == ["-m", "vanban.documents"]
    assert second.log_path == processes.root / "logs" / "documents-2.log"
    assert second.env is not None
    assert second.env["VANBAN_DOCUMENTS_GRPC_PORT"] == str(processes.ports["documents-2"])
    assert second.env["VANBAN_DOCUMENTS_DATABASE_URL"] == processes.database_url("documents")
    assert second.env["OTEL_SERVICE_NAME"] == "vanban-documents"
    assert "service.instance.id=documents-2" in second.env["OTEL_RESOURCE_ATTRIBUTES"]

    worker = processes.process("documents-text-2")
    assert worker.argv[1:] == ["-m", "vanban.documents", "textworker"]
    assert worker.log_path.name == "documents-text-2.log"
    assert worker.env is not None
    assert worker.env["VANBAN_DOCUMENTS_GRPC_PORT"] == str(processes.ports["documents-text-2"])

    gateway = processes.process("gateway-2").env
    assert gateway is not None
    assert gateway["VANBAN_GATEWAY_HTTP_PORT"] == str(processes.http_ports["gateway-2"])
    assert gateway["VANBAN_GATEWAY_GRPC_PORT"] == str(processes.ports["gateway-2"])
    first = processes.process("gateway").env
    assert first is not None and first["VANBAN_GATEWAY_HTTP_PORT"] == str(processes.gateway_port)


def test_peers_are_reached_at_every_replica_and_the_settings_take_the_target(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    processes = agency(data_dir, 2)

    env = processes.process("gateway-2").env
    assert env is not None
    peers = json.loads(env["VANBAN_PEERS"])
    assert set(peers) == set(PEERS["gateway"])
    ports = processes.ports
    assert peers["documents"] == (
        f"ipv4:127.0.0.1:{ports['documents']},127.0.0.1:{ports['documents-2']}"
    )
    # The service reads them from its environment, as started.
    for key, value in env.items():
        if key.startswith("VANBAN_"):
            monkeypatch.setenv(key, value)
    settings = ServiceSettings()
    assert settings.peer("archive") == (
        f"ipv4:127.0.0.1:{ports['archive']},127.0.0.1:{ports['archive-2']}"
    )


def test_one_replica_is_the_platform_as_it_always_was(data_dir: Path) -> None:
    processes = agency(data_dir, 1)

    assert list(processes.replica_of) == list(PROCESSES)
    assert processes.http_ports == {"gateway": processes.gateway_port}
    env = processes.process("gateway").env
    assert env is not None
    assert json.loads(env["VANBAN_PEERS"])["documents"] == processes.address("documents")
    assert processes.process("documents").log_path.name == "documents.log"


def test_the_state_lists_every_replica_with_its_ports_and_log(data_dir: Path) -> None:
    processes = agency(data_dir, 2)

    services = processes.state().services
    assert len(services) == 2 * len(PROCESSES)
    second = services["gateway-2"]
    assert (second.replica_of, second.grpc_port, second.http_port) == (
        "gateway",
        processes.ports["gateway-2"],
        processes.http_ports["gateway-2"],
    )
    assert second.log.endswith("/logs/gateway-2.log")
    assert services["notify-2"].http_port is None
    assert services["notify"].replica_of == "notify"


def test_up_takes_a_number_of_replicas_and_says_so_in_its_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as shown:
        main(["up", "--help"])
    assert shown.value.code == 0
    assert "--replicas N" in capsys.readouterr().out
    for wrong in ("0", "nine", "9"):
        with pytest.raises(SystemExit) as refused:
            main(["up", "--replicas", wrong])
        assert refused.value.code == 2
        assert "number of replicas from 1 to 8" in capsys.readouterr().err
