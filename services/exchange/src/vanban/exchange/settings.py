from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings

MIB = 1024 * 1024


class ExchangeSettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_EXCHANGE_", extra="ignore", populate_by_name=True
    )

    # The exchange axis (NATS JetStream of its own), with this agency's own credentials: they
    # let it publish to any agency's inbox and read only its own.
    axis_url: SecretStr
    # A package with its files, base64 inside the XML, is signed whole by the signing service,
    # which signs at most 7 MiB (within gRPC's 8 MiB messages).
    max_package_bytes: int = Field(default=7 * MIB, gt=0, le=7 * MIB)
    # Arrivals taken from the axis at once.
    receive_batch: int = Field(default=16, gt=0, le=256)
    # Transmissions sent at once, and how long a failing one keeps being retried before it is
    # marked failed (the backoff grows from 1 s to `retry_max_delay`).
    send_batch: int = Field(default=32, gt=0, le=1000)
    retry_max_delay: float = Field(default=300.0, gt=0)
    give_up_after_hours: float = Field(default=72.0, gt=0)
    consumer_max_deliver: int = Field(default=20, gt=0)
