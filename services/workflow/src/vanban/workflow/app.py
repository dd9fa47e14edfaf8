"""The one wiring place of the workflow service. It answers health only until its issues land."""

from __future__ import annotations

import asyncio

from vanban.platform.service import ServiceHost
from vanban.workflow.settings import WorkflowSettings


def build(settings: WorkflowSettings) -> ServiceHost:
    return ServiceHost(settings, service="workflow", uses_nats=False)


async def main(settings: WorkflowSettings, stop: asyncio.Event) -> None:
    host = build(settings)
    await host.start()
    await host.serve(stop)
