from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings


class DirectorySettings(ServiceSettings, DatabaseSettingsMixin):
    service_name: ClassVar[str] = "directory"
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_DIRECTORY_", extra="ignore", populate_by_name=True
    )
