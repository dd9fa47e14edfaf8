"""The gateway's real FastAPI app, built without starting anything: for tests of what it
declares and answers before any service is asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

from vanban.gateway.app import create_app
from vanban.gateway.settings import GatewaySettings
from vanban.platform.caller import ensure_keypair

AGENCY = "000.00.00.H99"


class _Identity:
    def token(self) -> str:
        return "gateway-identity"


class OfflineHost:
    """A service host whose channels are never called and whose database is never opened."""

    identity = _Identity()

    def uow(self) -> Any:
        raise AssertionError("these tests never reach the database")

    def channel(self, peer: str, *, background: bool = False) -> Any:
        return mock.Mock(name=f"channel to {peer}")


def build_gateway(keys_dir: Path) -> Any:
    ensure_keypair(keys_dir)
    settings = GatewaySettings(
        agency_code=AGENCY,
        keys_dir=keys_dir,
        database_url="postgresql+asyncpg://gateway:unused@127.0.0.1:9/gateway",
        trusted_hosts=("testserver",),
    )
    return create_app(settings, OfflineHost())  # type: ignore[arg-type]  # a host that serves nothing
