from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings


class DirectorySettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_DIRECTORY_", extra="ignore", populate_by_name=True
    )
