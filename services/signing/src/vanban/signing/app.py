"""The one wiring place of the signing service. It answers health only until its issues land."""

from __future__ import annotations

import asyncio

from vanban.platform.service import ServiceHost
from vanban.signing.settings import SigningSettings


def build(settings: SigningSettings) -> ServiceHost:
    return ServiceHost(settings, service="signing", uses_nats=False)


async def main(settings: SigningSettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)
