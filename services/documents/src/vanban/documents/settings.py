from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings


class DocumentsSettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_DOCUMENTS_", extra="ignore", populate_by_name=True
    )

    # Civil calendar of the agency: arrival years turn over at local midnight on 1 January.
    timezone: str = "Asia/Ho_Chi_Minh"
