from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from vanban.directory.app import build
from vanban.directory.bootstrap import run_bootstrap
from vanban.directory.domain.model import Agency
from vanban.directory.settings import DirectorySettings
from vanban.launcher.infra import NatsServer
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.platform.testing import DEMO_AGENCY, TokenMint, running

DEMO_PASSWORD = "vanban-demo"
AGENCY = Agency(code=DEMO_AGENCY, name="Ủy ban nhân dân tỉnh Demo", abbreviation="UBND")


@pytest.fixture(scope="session")
def demo_password() -> str:
    return DEMO_PASSWORD


@pytest.fixture(scope="session")
def agency() -> Agency:
    return AGENCY


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def mint(keys_dir: Path) -> TokenMint:
    return TokenMint(keys_dir)


@pytest.fixture(scope="module")
async def directory_database(make_database: DatabaseFactory) -> str:
    url: str = make_database("directory")
    await run_bootstrap(database_url=url, agency=AGENCY, demo_password=DEMO_PASSWORD)
    return url


@pytest.fixture(scope="module")
async def directory(
    directory_database: str, nats_server: NatsServer, mint: TokenMint
) -> AsyncIterator[str]:
    settings = DirectorySettings(
        agency_code=DEMO_AGENCY,
        keys_dir=mint.keys_dir,
        nats_url=nats_server.url,
        database_url=directory_database,
    )
    async with running(build(settings)) as address:
        yield address
