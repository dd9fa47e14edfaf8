from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import ServiceSettings


class SigningSettings(ServiceSettings):
    service_name: ClassVar[str] = "signing"
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_SIGNING_", extra="ignore", populate_by_name=True
    )
