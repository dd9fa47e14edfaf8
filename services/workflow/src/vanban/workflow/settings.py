from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings


class WorkflowSettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_WORKFLOW_", extra="ignore", populate_by_name=True
    )

    # The agency's civil calendar, for deadlines.
    timezone: str = "Asia/Ho_Chi_Minh"
    # How often each replica looks for reminders and overdue notices that fell due (seconds).
    due_poll_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Deliveries of one event (a draft numbered) before it is dead-lettered.
    consumer_max_deliver: int = Field(default=10, ge=1)
