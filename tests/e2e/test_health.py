"""Every service answers grpc.health.v1; the gateway is live and ready only with its dependencies."""

from __future__ import annotations

from tests.e2e.support import Gateway, eventually
from vanban.launcher.platform import SERVICES, Platform


def test_every_service_answers_grpc_health(platform: Platform) -> None:
    agency = platform.agencies[0]
    assert {service: agency.health(service) for service in SERVICES} == dict.fromkeys(
        SERVICES, "SERVING"
    )


def test_the_gateway_is_live_and_ready(gateway: Gateway) -> None:
    assert gateway.http.get("/healthz").status_code == 200
    ready = gateway.http.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {
        "directory",
        "documents",
        "archive",
        "notify",
        "workflow",
        "signing",
        "exchange",
    }


def test_the_gateway_is_not_ready_while_a_dependency_is_down(
    platform: Platform, gateway: Gateway
) -> None:
    agency = platform.agencies[0]
    assert not agency.stop_service("documents"), "documents had to be killed"
    try:
        # The peers' health is asked at most once a second (`/readyz` is open to anyone), so
        # the answer may be a second old.
        assert eventually(lambda: gateway.http.get("/readyz").status_code == 503, timeout=5)
        response = gateway.http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["documents"] != "SERVING"
        assert gateway.http.get("/healthz").status_code == 200
    finally:
        agency.start_service("documents")
    assert eventually(lambda: gateway.http.get("/readyz").status_code == 200, timeout=30)
