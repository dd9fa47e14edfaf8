from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import ServiceSettings


class WorkflowSettings(ServiceSettings):
    service_name: ClassVar[str] = "workflow"
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_WORKFLOW_", extra="ignore", populate_by_name=True
    )
