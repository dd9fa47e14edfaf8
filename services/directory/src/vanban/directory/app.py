"""The one wiring place of the directory service."""

from __future__ import annotations

import asyncio
from pathlib import Path

from vanban.contracts.directory.v1 import directory_pb2, directory_pb2_grpc
from vanban.directory.adapters.archive import ArchiveObjectStore
from vanban.directory.adapters.db.tables import platform_tables
from vanban.directory.adapters.grpc.servicer import DirectoryServicer
from vanban.directory.adapters.password import Argon2PasswordHasher
from vanban.directory.settings import DirectorySettings
from vanban.platform.service import ServiceHost

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name


def build(settings: DirectorySettings) -> ServiceHost:
    host = ServiceHost(settings, service="directory", tables=platform_tables, migrations=MIGRATIONS)
    host.grpc.add_service(
        directory_pb2_grpc.add_DirectoryServiceServicer_to_server,
        DirectoryServicer(
            uow_factory=host.uow,
            hasher=Argon2PasswordHasher(),
            # Images go to the archive peer, as the admin whose call is being served.
            store=ArchiveObjectStore(lambda: host.channel("archive", background=False)),
        ),
        SERVICE_NAME,
    )
    return host


async def main(settings: DirectorySettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)
