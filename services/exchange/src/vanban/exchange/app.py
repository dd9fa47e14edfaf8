"""The one wiring place of the exchange service. It answers health only until its issues land."""

from __future__ import annotations

import asyncio

from vanban.exchange.settings import ExchangeSettings
from vanban.platform.service import ServiceHost


def build(settings: ExchangeSettings) -> ServiceHost:
    return ServiceHost(settings, service="exchange", uses_nats=False)


async def main(settings: ExchangeSettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)
