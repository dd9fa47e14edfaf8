"""Real backing servers (PostgreSQL, NATS JetStream, SeaweedFS S3) run as child processes.

Shared by the local launcher and by the pytest plugin, so tests exercise the same servers,
started the same way, as a developer's machine.
"""

from vanban.launcher.infra.errors import InfraError
from vanban.launcher.infra.nats import NatsServer
from vanban.launcher.infra.ports import free_port, free_port_block
from vanban.launcher.infra.postgres import PostgresServer
from vanban.launcher.infra.seaweed import SeaweedServer

__all__ = [
    "InfraError",
    "NatsServer",
    "PostgresServer",
    "SeaweedServer",
    "free_port",
    "free_port_block",
]
