from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import ServiceSettings


class SigningSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_SIGNING_", extra="ignore", populate_by_name=True
    )
