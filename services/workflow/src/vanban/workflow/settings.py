from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings
from vanban.workflow.domain.calendar import DEFAULT_WORKING_DAYS, Priority


class WorkflowSettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_WORKFLOW_", extra="ignore", populate_by_name=True
    )

    # The agency's civil calendar, for deadlines.
    timezone: str = "Asia/Ho_Chi_Minh"
    # How often each replica looks for reminders and overdue notices that fell due (seconds).
    due_poll_seconds: float = Field(default=30.0, gt=0, le=3600)
    # How long the units, a document's secrecy and urgency, and a person, as asked of the
    # directory and the registry, are kept (seconds; 0: asked every time). A new unit head or a
    # corrected secrecy counts for the workflow that much later.
    peer_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # Deliveries of one event (a draft numbered) before it is dead-lettered.
    consumer_max_deliver: int = Field(default=10, ge=1)
    # Working days a task gets when the leader gives no deadline, by the document's urgency
    # (ADR 0010, 2): normal, khẩn, thượng khẩn, hỏa tốc (0: the same working day).
    default_working_days: dict[Priority, int] = Field(
        default_factory=lambda: dict(DEFAULT_WORKING_DAYS)
    )

    @field_validator("default_working_days")
    @classmethod
    def _every_urgency(cls, value: dict[Priority, int]) -> dict[Priority, int]:
        if set(value) != set(Priority) or not all(0 <= d <= 365 for d in value.values()):
            raise ValueError("name every urgency (normal, urgent, very_urgent, flash): 0..365 days")
        return value
