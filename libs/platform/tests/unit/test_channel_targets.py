"""Which peer targets get their calls spread round-robin: those that may name several replicas."""

from __future__ import annotations

import pytest

from vanban.platform.grpc.client import balanced


@pytest.mark.parametrize(
    "target",
    [
        "ipv4:127.0.0.1:5001,127.0.0.1:5002",  # vanban up --replicas 2
        "ipv6:[::1]:5001,[::1]:5002",
        "dns:///notify-headless.vanban-h99.svc.cluster.local:50051",  # Kubernetes
        "notify-headless.vanban-h99.svc.cluster.local:50051",
        "localhost:5001",
    ],
)
def test_several_addresses_or_a_name_are_balanced(target: str) -> None:
    assert balanced(target)


@pytest.mark.parametrize(
    "target",
    [
        "127.0.0.1:5001",  # vanban up, one replica: as it always was
        "ipv4:127.0.0.1:5001",
        "[::1]:5001",
        "dns:///10.0.0.7:50051",
        "unix:/run/vanban/notify.sock",
    ],
)
def test_one_address_keeps_one_connection(target: str) -> None:
    assert not balanced(target)
