"""The exchange axis: a NATS JetStream server of its own that carries packages between agencies.

Isolation is the server's, not the code's (DESIGN.md, "The national exchange axis"). A hub
account ``AXIS`` holds every agency's inbox stream (``INBOX_<token>`` on ``axis.inbox.<token>``,
see ``vanban.platform.axis_names``) and its durable pull consumer ``exchange``. Each agency has
an account of its own with one user, whose imports from ``AXIS`` are all it can reach:

- ``axis.inbox.>``: it may send to any agency's inbox, and gets the stream's PubAck back;
- its own inbox's ``$JS.API.CONSUMER.MSG.NEXT.INBOX_<token>.exchange``: it may pull its own
  arrivals, and no one else's;
- its own inbox's ``$JS.ACK.INBOX_<token>.exchange.>``: it may settle its own arrivals.

No agency account has JetStream of its own, nor any other JetStream API: it cannot see, make,
change or delete a stream or a consumer. Only the ``admin`` user of ``AXIS`` provisions them.

A province's axis is another ``AxisServer`` joined to the national one as a leaf node (in the
``AXIS`` account on both sides): its agencies reach each other locally and every other agency
through the one leaf connection. Each server has its own JetStream domain, so the two servers'
JetStream APIs never answer for each other, and each keeps the inboxes of its own agencies.

Limit of the leaf: the national side keeps the province's users off its JetStream API
(``LEAF_PERMISSIONS``), but the province's own ``AXIS`` users (its admin) share the national
``AXIS`` account's subjects through the leaf: subscribing there, they would receive what the
national axis routes in that account, national agencies' pulled packages included. A province's
axis operators are trusted with that until the leaf gets an account of its own on the national
side (not built: a per-province account exporting its agencies' inboxes to ``AXIS`` and
importing everyone else's).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nats
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from vanban.launcher.infra.errors import InfraError
from vanban.launcher.infra.files import new_password, open_private_log, write_private
from vanban.launcher.infra.nats import ADMIN_USER, NatsServer, NatsUser, user_entry
from vanban.launcher.infra.ports import LOOPBACK, free_port
from vanban.platform.axis_names import (
    INBOX_CONSUMER,
    INBOX_SUBJECT_PREFIX,
    agency_token,
    inbox_ack_subjects,
    inbox_pull_subject,
    inbox_stream,
    inbox_subject,
)

logger = logging.getLogger(__name__)

HUB_ACCOUNT = "AXIS"
MiB = 1024 * 1024
# The largest package (payload and headers) an inbox takes; a larger one is refused on send.
MAX_PACKAGE_BYTES = 8 * MiB
# What one inbox may hold, not yet taken, before it refuses new packages (discard new: nothing
# is dropped; the sender retries).
INBOX_MAX_BYTES = 256 * MiB
# The whole axis's file store. JetStream reserves each inbox's limit in it up front: it must
# hold every inbox's, and while an inbox's limit is changed, its old and new ones together.
MAX_FILE_STORE = 10 * 1024 * MiB
# Publishes repeating a Nats-Msg-Id seen within this window are acknowledged as duplicates.
DUPLICATE_WINDOW_SECONDS = 2 * 24 * 3600
# How long a fetched package may stay unacknowledged before it is delivered again.
ACK_WAIT_SECONDS = 60.0
# Room for the headers around the largest package, so that the stream (which names its limit
# in its answer) refuses an oversized package, not the server's protocol limit.
_HEADER_ROOM = 64 * 1024
# What a province's axis may do through its leaf connection when its leaf user brings no
# permissions of its own: everything but the JetStream API, so that it can neither read nor
# change the national streams and consumers (across domains, `$JS.<domain>.API.>`).
LEAF_PERMISSIONS: dict[str, Any] = {
    "publish": {"deny": ["$JS.>"]},
    "subscribe": {"deny": ["$JS.>"]},
}
# Server names and JetStream domains: one token each.
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class AxisAgency:
    """An agency on the axis: its code (mã định danh) and its account's one password."""

    code: str
    password: str = field(default_factory=new_password, repr=False)

    def __post_init__(self) -> None:
        agency_token(self.code)  # refuses what is not an agency code

    @property
    def account(self) -> str:
        return f"AGENCY_{agency_token(self.code)}"


class AxisServer(NatsServer):
    """A real ``nats-server`` running the exchange axis for ``agencies``, under ``data_dir``.

    ``start`` writes the configuration (0600: it holds every password), starts the server and
    provisions every agency's inbox and consumer, creating or updating them; started again on
    the same ``data_dir`` with more agencies, it keeps what it holds and adds the new inboxes.
    Inboxes of agencies no longer listed are kept (never deleted), though nobody can reach them.

    ``name`` is the server's name and its JetStream domain (``national``, a province's code).
    A national axis takes leaf connections on ``leaf_port`` from the ``leaf_users`` (one per
    province, ``LEAF_PERMISSIONS`` unless they bring their own); a province's axis joins one
    with ``leaf_remote``, a ``nats-leaf://`` URL that carries its leaf user (``leaf_url`` of
    the national server).

    Every inbox reserves its ``inbox_max_bytes`` in the ``max_file_store`` up front, so the
    agencies' inboxes must fit in it (checked here, and by the server again on provisioning).
    """

    def __init__(
        self,
        data_dir: Path,
        agencies: Iterable[AxisAgency],
        *,
        name: str = "national",
        port: int | None = None,
        admin_password: str | None = None,
        leaf_port: int | None = None,
        leaf_users: Iterable[NatsUser] = (),
        leaf_remote: str | None = None,
        ack_wait: float = ACK_WAIT_SECONDS,
        max_package_bytes: int = MAX_PACKAGE_BYTES,
        inbox_max_bytes: int = INBOX_MAX_BYTES,
        max_file_store: int = MAX_FILE_STORE,
        startup_timeout: float = 15.0,
    ) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(f"axis name {name!r}: letters, digits, '_' and '-' only")
        self.agencies = {agency.code: agency for agency in agencies}
        self.name = name
        self.leaf_users = {user.name: user for user in leaf_users}
        taken = {ADMIN_USER, *self.agencies}.intersection(self.leaf_users)
        if taken:
            raise ValueError(f"leaf user names taken by the admin or an agency: {sorted(taken)}")
        if self.leaf_users and leaf_port is None:
            leaf_port = free_port()
        self.leaf_port = leaf_port
        self.leaf_remote = leaf_remote
        self.ack_wait = ack_wait
        self.max_package_bytes = max_package_bytes
        self.inbox_max_bytes = inbox_max_bytes
        if len(self.agencies) * inbox_max_bytes > max_file_store:
            raise ValueError(
                f"{len(self.agencies)} inboxes of {inbox_max_bytes} bytes do not fit in the"
                f" axis's file store of {max_file_store} bytes"
            )
        super().__init__(
            data_dir,
            port,
            # Agency users live in the agency accounts; user_url(code) is an agency's URL.
            users=[NatsUser(agency.code, agency.password) for agency in self.agencies.values()],
            admin_password=admin_password,
            # Inboxes are on file; memory is JetStream's own small needs.
            max_memory_store="64MB",
            max_file_store=str(max_file_store),
            startup_timeout=startup_timeout,
        )

    def agency_url(self, code: str) -> str:
        """The URL an agency's exchange service connects with: its own account's user."""
        return self.user_url(code)

    def leaf_url(self, user: str) -> str:
        """The ``nats-leaf://`` URL a province's axis joins this one with, as ``user``."""
        if self.leaf_port is None:
            raise ValueError(f"the {self.name} axis takes no leaf connections")
        leaf = self.leaf_users[user]
        credentials = f"{quote(leaf.name, safe='')}:{quote(leaf.password, safe='')}"
        return f"nats-leaf://{credentials}@{LOOPBACK}:{self.leaf_port}"

    def start(self) -> None:
        super().start()
        try:
            self.provision()
        except Exception as exc:
            self.stop()
            raise InfraError(f"the {self.name} axis: inboxes not provisioned: {exc}") from exc

    def provision(self) -> None:
        """Creates or updates every agency's inbox stream and consumer (idempotent).

        Runs its own event loop in a thread of its own, so that it works from any thread,
        whether or not an event loop is running there (``start`` is called from both).
        """
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, self._provision()).result()

    async def _provision(self) -> None:
        nc = await nats.connect(self.url, connect_timeout=5, allow_reconnect=False)
        try:
            js = nc.jetstream(timeout=10)
            for code in self.agencies:
                await _create_or_update_stream(js, self._inbox_config(code))
                await js.add_consumer(inbox_stream(code), self._consumer_config())
        finally:
            await nc.close()
        logger.info(
            "axis inboxes provisioned", extra={"axis": self.name, "inboxes": len(self.agencies)}
        )

    def _inbox_config(self, code: str) -> StreamConfig:
        return StreamConfig(
            name=inbox_stream(code),
            subjects=[inbox_subject(code)],
            # An acknowledged package leaves the inbox: the byte limit bounds what waits to be
            # taken, not everything that ever arrived (the receiver keeps its own evidence).
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            max_bytes=self.inbox_max_bytes,
            max_msg_size=self.max_package_bytes,
            discard=DiscardPolicy.NEW,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        )

    def _consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=INBOX_CONSUMER,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            # Redelivered until acked: a package is never given up on by the axis.
            max_deliver=-1,
        )

    def _write_config(self) -> None:
        # JSON is valid nats-server config syntax, and quotes every subject and password.
        sections = [
            f"server_name: {json.dumps(f'axis-{self.name}')}",
            f"host: {LOOPBACK}",
            f"port: {self.port}",
            f"max_payload: {self.max_package_bytes + _HEADER_ROOM}",
            f"""jetstream {{
  store_dir: {json.dumps(str(self.data_dir))}
  max_memory_store: {self.max_memory_store}
  max_file_store: {self.max_file_store}
  domain: {json.dumps(self.name)}
}}""",
            *self._leafnodes_section(),
            f"accounts: {json.dumps(self._accounts(), indent=2)}",
        ]
        # The passwords are in it: readable by us alone.
        write_private(self.config_path, "\n".join(sections) + "\n")
        open_private_log(self.log_path).close()

    def _leafnodes_section(self) -> list[str]:
        leafnodes: dict[str, Any] = {}
        if self.leaf_port is not None:
            leafnodes |= {"host": LOOPBACK, "port": self.leaf_port}
        if self.leaf_remote is not None:
            leafnodes["remotes"] = [{"url": self.leaf_remote, "account": HUB_ACCOUNT}]
        return [f"leafnodes: {json.dumps(leafnodes, indent=2)}"] if leafnodes else []

    def _accounts(self) -> dict[str, Any]:
        leaf_users = [
            NatsUser(
                user.name,
                user.password,
                LEAF_PERMISSIONS if user.permissions is None else user.permissions,
            )
            for user in self.leaf_users.values()
        ]
        accounts: dict[str, Any] = {
            HUB_ACCOUNT: {
                "jetstream": "enabled",
                "users": [user_entry(user) for user in (self.admin, *leaf_users)],
                "exports": [
                    {"service": f"{INBOX_SUBJECT_PREFIX}.>"},
                    *(entry for agency in self.agencies.values() for entry in _own_exports(agency)),
                ],
            }
        }
        for agency in self.agencies.values():
            accounts[agency.account] = {
                "users": [user_entry(NatsUser(agency.code, agency.password))],
                "imports": [
                    {"service": {"account": HUB_ACCOUNT, "subject": subject}}
                    for subject in (f"{INBOX_SUBJECT_PREFIX}.>", *_own_subjects(agency.code))
                ],
            }
        return accounts


def _own_subjects(code: str) -> tuple[str, str]:
    """The JetStream subjects of an agency's own inbox it may use: pull, and settle."""
    return inbox_pull_subject(code), inbox_ack_subjects(code)


def _own_exports(agency: AxisAgency) -> list[dict[str, Any]]:
    pull, acks = _own_subjects(agency.code)
    return [
        # A pull request is answered by several messages (a batch, then a status).
        {"service": pull, "accounts": [agency.account], "response_type": "stream"},
        {"service": acks, "accounts": [agency.account]},
    ]


async def _create_or_update_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Creates the stream, or updates the one there to ``config``.

    Asks first rather than trying to create: creating a stream that exists counts its storage
    reservation twice, which a store with little room over its inboxes' reservations refuses
    ("insufficient storage resources available").
    """
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
