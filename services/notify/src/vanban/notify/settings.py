from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings


class NotifySettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_NOTIFY_", extra="ignore", populate_by_name=True
    )

    # Deliveries of one event before it is dead-lettered. Retries wait 1, 2, 4 ... 30 s, so ten
    # deliveries ride out a directory restart of about two minutes.
    consumer_max_deliver: int = 10

    @field_validator("peers")
    @classmethod
    def _directory_known(cls, value: dict[str, str]) -> dict[str, str]:
        # Every notice needs its recipients from the directory: fail at start, not per event.
        if "directory" not in value:
            raise ValueError("VANBAN_PEERS must give the address of the directory service")
        return value

    @field_validator("consumer_max_deliver")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value
