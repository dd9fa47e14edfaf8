"""Settings shared by every service program; each service subclasses `ServiceSettings`."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AGENCY_CODE_RE = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[0-9A-Z]{3}$")


class ServiceSettings(BaseSettings):
    """Built once in `__main__` from the environment (prefix `VANBAN_<SVC>_`) and passed down.

    Settings every service shares also read the un-prefixed `VANBAN_*` variable, so that the
    launcher or a Kubernetes ConfigMap sets them once per agency.
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    agency_code: str = Field(validation_alias="VANBAN_AGENCY_CODE")
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 0
    keys_dir: Path = Field(validation_alias="VANBAN_KEYS_DIR")
    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias="VANBAN_NATS_URL")
    log_level: str = Field(default="INFO", validation_alias="VANBAN_LOG_LEVEL")
    # Seconds given to in-flight RPCs and the message in hand on SIGTERM.
    shutdown_grace: float = 10.0
    # Copies of this service's event stream (and the dead-letter stream) on a NATS cluster: 3
    # on Kubernetes (the chart's three servers), 1 on a single server (`vanban up`).
    nats_stream_replicas: int = Field(
        default=1, ge=1, le=5, validation_alias="VANBAN_NATS_STREAM_REPLICAS"
    )
    # Addresses of the other services this one calls, keyed by service name.
    peers: dict[str, str] = Field(default_factory=dict, validation_alias="VANBAN_PEERS")

    @field_validator("agency_code")
    @classmethod
    def _agency_code_shape(cls, value: str) -> str:
        if not AGENCY_CODE_RE.match(value):
            raise ValueError("agency code must look like 000.00.00.H99")
        return value

    def peer(self, name: str) -> str:
        try:
            return self.peers[name]
        except KeyError:
            raise ValueError(
                f"no address configured for the {name} service (VANBAN_PEERS)"
            ) from None


class DatabaseSettingsMixin(BaseSettings):
    database_url: str
    # Connections each process keeps open to its database; it may open as many again at a
    # peak. Size it so that every replica at its autoscaler's maximum fits in the server's
    # max_connections (docs/operations.md, "Sizing").
    database_pool_size: int = Field(
        default=10, ge=1, le=100, validation_alias="VANBAN_DATABASE_POOL_SIZE"
    )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("database_url must use postgresql+asyncpg://")
        return value
