"""Notices by e-mail through a real SMTP relay in the test process (aiosmtpd): STARTTLS with a
certificate the platform is told to trust, a user and password, Vietnamese plain text and HTML
with the link; refusals given up on and shown to the administrator; each person's choices."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext
from sqlalchemy import select

from vanban.contracts.directory.v1 import directory_pb2 as dpb
from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.contracts.notify.v1 import notify_pb2 as pb
from vanban.contracts.notify.v1 import notify_pb2_grpc
from vanban.contracts.workflow.v1 import events_pb2 as workflow_events
from vanban.contracts.workflow.v1 import workflow_pb2
from vanban.launcher.infra import NatsServer
from vanban.launcher.infra.ports import free_port
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.notify.adapters.db.email import SqlEmails, SqlPreferences
from vanban.notify.adapters.db.repository import SqlNotificationRepository
from vanban.notify.adapters.db.tables import email_deliveries
from vanban.notify.domain.email import EmailMode, preferences_from
from vanban.notify.domain.model import Notification, NotificationKind
from vanban.notify.settings import NotifySettings
from vanban.platform.db import create_engine, session_factory
from vanban.platform.events.nats import ensure_service_stream
from vanban.platform.testing import TokenMint, channel, metadata

from ..conftest import settings_for
from .test_incoming_notifications import (
    DirectoryService,
    eventually,
    make_registered,
    person,
    publish,
)

USER, PASSWORD = "vanban-relay", "mat-khau-relay"
LINK_BASE = "https://vanban.example.gov.vn/app"
REFUSED = "khong-ton-tai@example.gov.vn"
# Refused for now (451) twice, then taken.
BUSY = "hop-thu-day@example.gov.vn"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay.pem", directory / "relay.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Relay:
    """What the relay saw: each message with whether it came over TLS and who signed in."""

    messages: list[tuple[EmailMessage, bool, str]] = field(default_factory=list)
    port: int = 0
    ca_file: str = ""
    busy_left: int = 2

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 Không có hộp thư này"
        if address == BUSY and self.busy_left > 0:
            self.busy_left -= 1
            return "451 4.2.2 Hộp thư tạm thời đầy"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.auth_data else ""
        self.messages.append((message, session.ssl is not None, login))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, _, _ in self.messages if address in str(m["To"])]


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, auth_data=data)


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    cert, key = self_signed(tmp_path_factory.mktemp("relay"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    found = Relay(port=free_port(), ca_file=str(cert))
    controller = Controller(
        found,
        hostname="127.0.0.1",
        port=found.port,
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticate,
    )
    controller.start()
    try:
        yield found
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def notify_settings(
    make_database: DatabaseFactory,
    nats_server: NatsServer,
    mint: TokenMint,
    directory: DirectoryService,
    relay: Relay,
) -> NotifySettings:
    return settings_for(
        make_database("notify_email"),
        nats_server,
        mint,
        directory.address,
        smtp_host="localhost",
        smtp_port=relay.port,
        smtp_username=USER,
        smtp_password=PASSWORD,
        smtp_ca_file=relay.ca_file,
        smtp_sender="Vanban UBND tỉnh Demo <no-reply@demo.gov.vn>",
        link_base=LINK_BASE,
        email_retry_first_seconds=0.2,
        email_poll_seconds=0.1,
    )


@pytest.fixture(scope="module")
async def workflow_js(js: JetStreamContext) -> AsyncIterator[JetStreamContext]:
    await ensure_service_stream(js, "workflow")
    yield js


async def set_email(
    directory: DirectoryService, mint: TokenMint, username: str, address: str
) -> dpb.Person:
    async with channel(directory.address) as ch:
        stub = directory_pb2_grpc.DirectoryServiceStub(ch)
        admin = await stub.FindPerson(
            dpb.FindPersonRequest(username="quantri"), metadata=metadata(mint.service()), timeout=10
        )
        token = mint.person(admin.person.id, roles=("admin",), units=admin.person.unit_codes)
        found = await stub.FindPerson(
            dpb.FindPersonRequest(username=username), metadata=metadata(mint.service()), timeout=10
        )
        changed = await stub.UpdatePerson(
            dpb.UpdatePersonRequest(
                person=dpb.Person(id=found.person.id, email=address),
                update_mask=FieldMask(paths=["email"]),
            ),
            metadata=metadata(token),
            timeout=10,
        )
    return changed.person


async def assign(js: JetStreamContext, *, document_id: str, unit: str, person_id: str = "") -> str:
    task_id = str(uuid.uuid4())
    occurred = Timestamp()
    occurred.GetCurrentTime()
    event = workflow_events.TaskAssigned(
        assignment=workflow_pb2.Assignment(id=str(uuid.uuid4()), document_id=document_id),
        tasks=[
            workflow_pb2.Task(
                id=task_id,
                document_id=document_id,
                role=workflow_pb2.TASK_ROLE_LEAD,
                holder_unit=unit,
                holder_person=person_id,
                deadline="2026-12-15",
                created_by="leader",
            )
        ],
        occurred_at=occurred,
    )
    await js.publish(
        "vanban.workflow.task.assigned",
        event.SerializeToString(),
        headers={"Nats-Msg-Id": str(uuid.uuid4())},
    )
    return task_id


async def test_an_assignment_reaches_the_unit_head_by_e_mail_in_vietnamese_with_the_link(
    notify: str,
    js: JetStreamContext,
    workflow_js: JetStreamContext,
    relay: Relay,
    directory: DirectoryService,
    mint: TokenMint,
) -> None:
    head = await set_email(directory, mint, "truongphong", "truongphong@demo.gov.vn")
    registered = make_registered(subject="V/v báo cáo tình hình thực hiện nhiệm vụ năm 2026")
    await publish(js, registered, event_id=str(uuid.uuid4()))
    task_id = await assign(workflow_js, document_id=registered.document.id, unit="VP")

    [message] = await eventually(
        lambda: asyncio.sleep(0, [m for m in relay.to(head.email) if "được giao" in m["Subject"]]),
        bool,
        within=60,
    )
    assert message["Subject"] == "[Vanban] Văn bản được giao cho bạn (chủ trì)"
    assert message["From"] == "Vanban UBND tỉnh Demo <no-reply@demo.gov.vn>"
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None
    text, markup = plain.get_content(), rich.get_content()
    link = f"{LINK_BASE}/tasks/{task_id}"
    assert text.startswith(f"Kính gửi {head.full_name},")
    assert "V/v báo cáo tình hình thực hiện nhiệm vụ năm 2026" in text
    assert "hạn xử lý 15/12/2026" in text and link in text
    assert f'href="{link}"' in markup and 'lang="vi"' in markup
    # Over STARTTLS, signed in with the relay's user.
    [(_, over_tls, login)] = [(m, t, u) for m, t, u in relay.messages if m is message]
    assert over_tls and login == USER


async def test_an_address_the_relay_refuses_is_given_up_and_shown_to_the_administrator(
    notify: str,
    js: JetStreamContext,
    workflow_js: JetStreamContext,
    relay: Relay,
    directory: DirectoryService,
    mint: TokenMint,
) -> None:
    await set_email(directory, mint, "truongphong", REFUSED)
    registered = make_registered(subject="Văn bản không gửi được thư")
    await publish(js, registered, event_id=str(uuid.uuid4()))
    await assign(workflow_js, document_id=registered.document.id, unit="VP")
    admin = mint.person("admin-1", roles=("admin",))

    async def failed() -> list[pb.EmailDelivery]:
        async with channel(notify) as ch:
            answer = await notify_pb2_grpc.NotifyServiceStub(ch).ListEmailDeliveries(
                pb.ListEmailDeliveriesRequest(state="failed"), metadata=metadata(admin), timeout=10
            )
        return list(answer.deliveries)

    [gone] = await eventually(failed, bool, within=60)
    assert gone.address == REFUSED and gone.attempts == 1
    assert "550" in gone.last_error and "Không có hộp thư này" in gone.last_error
    assert gone.kind == pb.NOTIFICATION_KIND_TASK_ASSIGNED
    await set_email(directory, mint, "truongphong", "truongphong@demo.gov.vn")


async def test_a_person_who_turned_an_e_mail_off_gets_none_and_keeps_the_notice(
    notify: str,
    js: JetStreamContext,
    workflow_js: JetStreamContext,
    relay: Relay,
    directory: DirectoryService,
    mint: TokenMint,
) -> None:
    head = await set_email(directory, mint, "truongphong", "truongphong@demo.gov.vn")
    token = mint.person(head.id, roles=("unit_head",), units=head.unit_codes)
    async with channel(notify) as ch:
        stub = notify_pb2_grpc.NotifyServiceStub(ch)
        chosen = await stub.UpdateNotificationPreferences(
            pb.UpdateNotificationPreferencesRequest(
                preferences=pb.NotificationPreferences(email={"task_assigned": "off"})
            ),
            metadata=metadata(token),
            timeout=10,
        )
        assert chosen.preferences.effective_email["task_assigned"] == "off"
        assert chosen.preferences.effective_email["task_completed"] == "digest"
        before = len(relay.to(head.email))
        registered = make_registered(subject="Văn bản không cần thư")
        await publish(js, registered, event_id=str(uuid.uuid4()))
        task_id = await assign(workflow_js, document_id=registered.document.id, unit="VP")

        async def inbox() -> list[pb.Notification]:
            answer = await stub.ListNotifications(
                pb.ListNotificationsRequest(page_size=50), metadata=metadata(token), timeout=10
            )
            return [n for n in answer.notifications if n.resource == f"tasks/{task_id}"]

        await eventually(inbox, bool, within=60)
        await asyncio.sleep(1.0)
        assert len(relay.to(head.email)) == before
        await stub.UpdateNotificationPreferences(
            pb.UpdateNotificationPreferencesRequest(preferences=pb.NotificationPreferences()),
            metadata=metadata(token),
            timeout=10,
        )


async def test_a_relay_busy_for_now_gets_the_e_mail_again_and_a_bad_address_blocks_no_one(
    notify: str,
    js: JetStreamContext,
    workflow_js: JetStreamContext,
    relay: Relay,
    directory: DirectoryService,
    mint: TokenMint,
) -> None:
    head = await set_email(directory, mint, "truongphong", BUSY)
    await set_email(directory, mint, "chuyenvien", "chuyên-viên@demo.gov.vn")
    registered = make_registered(subject="Văn bản thử thư chậm")
    await publish(js, registered, event_id=str(uuid.uuid4()))
    task_id = await assign(workflow_js, document_id=registered.document.id, unit="VP")
    # A task of the same document to the specialist, whose address is no e-mail address.
    specialist = await person(directory, mint, dpb.ROLE_SPECIALIST)
    await assign(workflow_js, document_id=registered.document.id, unit="", person_id=specialist.id)
    admin = mint.person("admin-1", roles=("admin",))

    async def deliveries(state: str) -> list[pb.EmailDelivery]:
        async with channel(notify) as ch:
            answer = await notify_pb2_grpc.NotifyServiceStub(ch).ListEmailDeliveries(
                pb.ListEmailDeliveriesRequest(state=state), metadata=metadata(admin), timeout=10
            )
        return list(answer.deliveries)

    sent = await eventually(
        lambda: deliveries("sent"), lambda found: any(d.address == BUSY for d in found), within=60
    )
    [busy] = [d for d in sent if d.address == BUSY]
    assert busy.attempts == 3
    texts = [m.get_body(("plain",)) for m in relay.to(BUSY)]
    assert any(t is not None and f"tasks/{task_id}" in t.get_content() for t in texts)
    failed = await eventually(
        lambda: deliveries("failed"),
        lambda found: any(d.address.startswith("chuyên") for d in found),
    )
    [bad] = [d for d in failed if d.address.startswith("chuyên")]
    assert bad.attempts == 1 and "not an e-mail address" in bad.last_error
    assert head.email == BUSY
    await set_email(directory, mint, "truongphong", "truongphong@demo.gov.vn")


async def queue_one(
    session: Any, person_id: str, kind: NotificationKind, mode: EmailMode, *, due_at: datetime
) -> Notification:
    """A notice of the person's and its e-mail, due at `due_at`."""
    now = datetime.now(dt.UTC)
    notice = await SqlNotificationRepository(session).add_if_absent(
        Notification(
            id=str(uuid.uuid4()),
            recipient_id=person_id,
            kind=kind,
            title="Văn bản đã được xử lý xong (chủ trì)",
            body="b",
            resource="tasks/x",
            created_at=now,
            source_event_id=str(uuid.uuid4()),
        )
    )
    assert notice is not None
    await SqlEmails(session).enqueue(
        email_id=str(uuid.uuid4()),
        notification_id=notice.id,
        person_id=person_id,
        address=f"{person_id}@demo.gov.vn",
        name="A",
        mode=mode,
        now=now,
        due_at=due_at,
    )
    return notice


async def test_two_senders_never_hold_the_same_e_mail_and_a_lost_hold_records_nothing(
    notify: str, notify_settings: NotifySettings
) -> None:
    engine = create_engine(notify_settings.database_url, pool_size=2)
    sessions = session_factory(engine)
    now = datetime.now(dt.UTC)
    person_id = f"p-{uuid.uuid4()}"
    try:
        async with sessions() as session:
            for _ in range(6):
                await queue_one(
                    session,
                    person_id,
                    NotificationKind.TASK_ASSIGNED,
                    EmailMode.EACH,
                    due_at=now + dt.timedelta(days=365),
                )
            await session.commit()
        later = now + dt.timedelta(days=366)
        lease = dt.timedelta(minutes=2)
        async with sessions() as first, sessions() as second:
            mine = await SqlEmails(first).claim_due(now=later, lease=lease, limit=4, token="A")
            theirs = await SqlEmails(second).claim_due(now=later, lease=lease, limit=4, token="B")
            await first.commit()
            await second.commit()
        ours = [e for e in mine if e.person_id == person_id]
        others = [e for e in theirs if e.person_id == person_id]
        assert ours and others and not {e.id for e in ours} & {e.id for e in others}
        # A sender whose hold was taken over (its lease ran out) records nothing.
        async with sessions() as session:
            taken = await SqlEmails(session).claim_due(
                now=later + lease * 2, lease=lease, limit=10, token="C"
            )
            assert {e.id for e in ours} <= {e.id for e in taken}
            assert not await SqlEmails(session).renew(
                [e.id for e in ours], token="A", now=later, lease=lease
            )
            await SqlEmails(session).settle(
                [e.id for e in ours],
                token="A",
                sent_at=later,
                error="",
                retry_at=None,
                give_up=False,
            )
            await session.commit()
            still = await session.execute(
                select(email_deliveries.c.state).where(
                    email_deliveries.c.id.in_([e.id for e in ours])
                )
            )
            assert {row.state for row in still} == {"pending"}
    finally:
        await engine.dispose()


async def test_an_e_mail_of_a_kind_turned_off_after_it_was_queued_is_not_sent(
    notify: str, notify_settings: NotifySettings, relay: Relay
) -> None:
    engine = create_engine(notify_settings.database_url, pool_size=1)
    sessions = session_factory(engine)
    now = datetime.now(dt.UTC)
    person_id = f"p-{uuid.uuid4()}"
    address = f"{person_id}@demo.gov.vn"
    try:
        async with sessions() as session:
            # Queued for the evening's digest; the person then turns that kind off.
            notice = await queue_one(
                session, person_id, NotificationKind.TASK_COMPLETED, EmailMode.DIGEST, due_at=now
            )
            await SqlPreferences(session).put(
                person_id,
                preferences_from(
                    email={"task_completed": "off"}, quiet_start="", quiet_end="", digest_time=""
                ),
                now=now,
            )
            await session.commit()

        async def state() -> str:
            async with sessions() as session:
                found = await session.execute(
                    select(email_deliveries.c.state).where(
                        email_deliveries.c.notification_id == notice.id
                    )
                )
                return str(found.scalar_one())

        assert await eventually(state, lambda found: found != "pending") == "cancelled"
        assert relay.to(address) == []
    finally:
        await engine.dispose()
