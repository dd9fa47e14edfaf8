from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import ServiceSettings


class ExchangeSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_EXCHANGE_", extra="ignore", populate_by_name=True
    )
