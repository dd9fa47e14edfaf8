from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings


class DocumentsSettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_DOCUMENTS_", extra="ignore", populate_by_name=True
    )

    # Civil calendar of the agency: arrival years turn over at local midnight on 1 January.
    timezone: str = "Asia/Ho_Chi_Minh"
    # Deliveries of one event (an assignment) before it is dead-lettered.
    consumer_max_deliver: int = Field(default=10, ge=1)
    # Register books one replica renders at once; more are refused (RESOURCE_EXHAUSTED
    # BOOKS_BUSY, 429 at the gateway) rather than queued: each holds a database connection.
    books_in_parallel: int = Field(default=2, ge=1)
    # Whether a draft is numbered only once it passed its approval chain (the workflow is asked
    # at issue). Off only for a registry run without the workflow: its own tests, tools.
    approval_required: bool = True
