from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from vanban.directory.app import build as build_directory
from vanban.directory.bootstrap import run_bootstrap
from vanban.directory.domain.model import Agency
from vanban.directory.settings import DirectorySettings
from vanban.launcher.infra import NatsServer
from vanban.launcher.infra.ports import free_port
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.notify.app import build as build_notify
from vanban.notify.settings import NotifySettings
from vanban.platform.events.nats import ensure_service_stream
from vanban.platform.testing import DEMO_AGENCY, TokenMint, running

DEMO_PASSWORD = "vanban-demo"
AGENCY = Agency(code=DEMO_AGENCY, name="Ủy ban nhân dân tỉnh Demo", abbreviation="UBND")


class DirectoryService:
    """The real directory, in-process on a fixed port, so a test can stop it and bring it back
    where notify expects it."""

    def __init__(self, settings: DirectorySettings) -> None:
        self.settings = settings
        self.address = f"127.0.0.1:{settings.grpc_port}"
        self._stack: contextlib.AsyncExitStack | None = None

    async def start(self) -> None:
        assert self._stack is None
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(running(build_directory(self.settings)))
        self._stack = stack

    async def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    @property
    def is_running(self) -> bool:
        return self._stack is not None


@pytest.fixture(scope="module")
def mint(tmp_path_factory: pytest.TempPathFactory) -> TokenMint:
    return TokenMint(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
async def directory(
    make_database: DatabaseFactory, nats_server: NatsServer, mint: TokenMint
) -> AsyncIterator[DirectoryService]:
    url = make_database("notify_directory")
    await run_bootstrap(database_url=url, agency=AGENCY, demo_password=DEMO_PASSWORD)
    service = DirectoryService(
        DirectorySettings(
            agency_code=DEMO_AGENCY,
            keys_dir=mint.keys_dir,
            nats_url=nats_server.url,
            database_url=url,
            grpc_port=free_port(),
        )
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def settings_for(
    database_url: str,
    nats_server: NatsServer,
    mint: TokenMint,
    directory_address: str,
    **overrides: object,
) -> NotifySettings:
    """Notify's settings against this module's NATS, directory and keys, with `overrides`."""
    fields: dict[str, object] = {
        "agency_code": DEMO_AGENCY,
        "keys_dir": mint.keys_dir,
        "nats_url": nats_server.url,
        "database_url": database_url,
        "peers": {"directory": directory_address},
        "shutdown_grace": 2.0,
        # Every event asks the directory: a test that stops it sees the event wait for it.
        "people_cache_seconds": 0.0,
    }
    fields.update(overrides)
    return NotifySettings.model_validate(fields)


@pytest.fixture(scope="module")
def notify_settings(
    make_database: DatabaseFactory,
    nats_server: NatsServer,
    mint: TokenMint,
    directory: DirectoryService,
) -> NotifySettings:
    return settings_for(make_database("notify"), nats_server, mint, directory.address)


@pytest.fixture(scope="module")
async def notify(notify_settings: NotifySettings) -> AsyncIterator[str]:
    async with running(build_notify(notify_settings)) as address:
        yield address


@pytest.fixture(scope="module")
async def js(nats_server: NatsServer) -> AsyncIterator[JetStreamContext]:
    """The documents service's side of JetStream: its stream, to publish registrations into."""
    nc = Client()
    await nc.connect(nats_server.url)
    context = nc.jetstream()
    await ensure_service_stream(context, "documents")
    try:
        yield context
    finally:
        await nc.close()
