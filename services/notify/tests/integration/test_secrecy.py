"""A clerk below a document's secrecy learns nothing of it from notify: no notice is recorded
for them, and a notice they were once cleared for leaves their inbox when their clearance is
lowered. The directory is real; its second clerk is cleared for nothing."""

from __future__ import annotations

import uuid

import pytest
from nats.js import JetStreamContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from services.notify.tests.integration.test_incoming_notifications import (
    DirectoryService,
    about,
    consumer_idle,
    eventually,
    inbox,
    make_registered,
    person,
    publish,
)
from vanban.contracts.directory.v1 import directory_pb2 as dpb
from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.contracts.documents.v1 import documents_pb2 as docpb
from vanban.notify.adapters.db.tables import notifications
from vanban.notify.settings import NotifySettings
from vanban.platform.testing import TokenMint, channel, metadata


@pytest.fixture(scope="module")
async def cleared_clerk(directory: DirectoryService, mint: TokenMint) -> dpb.Person:
    """The bootstrap's clerk (vanthu), cleared for mật (confidential)."""
    clerk = await person(directory, mint, dpb.ROLE_CLERK)
    assert clerk.clearance == dpb.CLEARANCE_CONFIDENTIAL
    return clerk


@pytest.fixture(scope="module")
async def uncleared_clerk(
    directory: DirectoryService, mint: TokenMint, cleared_clerk: dpb.Person
) -> dpb.Person:
    async with channel(directory.address) as ch:
        answer = await directory_pb2_grpc.DirectoryServiceStub(ch).CreatePerson(
            dpb.CreatePersonRequest(
                person=dpb.Person(
                    username="vanthu2",
                    full_name="Văn thư không được tiếp cận bí mật",
                    roles=[dpb.ROLE_CLERK],
                    clearance=dpb.CLEARANCE_NONE,
                ),
                password="vanban-demo-2",
            ),
            metadata=metadata(mint.service()),
            timeout=10,
        )
    return answer.person


def token(mint: TokenMint, clerk: dpb.Person, clearance: str) -> str:
    return mint.person(clerk.id, roles=("clerk",), clearance=clearance)


async def recipients(settings: NotifySettings, document_id: str) -> set[str]:
    """Everyone notify recorded a notice for about the document, read from its database."""
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(notifications.c.recipient_id).where(
                    notifications.c.resource == f"incoming-documents/{document_id}"
                )
            )
            return set(rows.scalars())
    finally:
        await engine.dispose()


async def test_a_clerk_below_the_secrecy_gets_no_notice_at_all(
    notify: str,
    notify_settings: NotifySettings,
    js: JetStreamContext,
    mint: TokenMint,
    cleared_clerk: dpb.Person,
    uncleared_clerk: dpb.Person,
) -> None:
    secret = make_registered(
        arrival_number=41,
        secrecy=docpb.SECRECY_CONFIDENTIAL,
        subject="V/v phương án bảo vệ mục tiêu",
        issuer_name="Bộ Công an",
    )
    ordinary = make_registered(arrival_number=42)
    await publish(js, secret, event_id=str(uuid.uuid4()))
    await publish(js, ordinary, event_id=str(uuid.uuid4()))

    cleared = token(mint, cleared_clerk, "confidential")
    await eventually(
        lambda: inbox(notify, cleared), lambda ns: bool(about(ns, ordinary.document.id))
    )
    await eventually(lambda: consumer_idle(js), bool)
    [notice] = about(await inbox(notify, cleared), secret.document.id)
    assert notice.title == "Văn bản đến mới: số đến 41/2026 (sổ mật)"
    assert "phương án bảo vệ" in notice.body

    # The uncleared clerk is notified of the ordinary document only; nothing of the secret
    # one (not its number, issuer or id) was even written for them.
    seen = await inbox(notify, token(mint, uncleared_clerk, "none"))
    assert about(seen, ordinary.document.id)
    assert about(seen, secret.document.id) == []
    assert not [n for n in seen if "41/2026" in n.title or "Bộ Công an" in n.body]
    assert await recipients(notify_settings, secret.document.id) == {cleared_clerk.id}
    assert await recipients(notify_settings, ordinary.document.id) == {
        cleared_clerk.id,
        uncleared_clerk.id,
    }


async def test_a_lowered_clearance_hides_notices_it_no_longer_covers(
    notify: str, js: JetStreamContext, mint: TokenMint, cleared_clerk: dpb.Person
) -> None:
    secret = make_registered(arrival_number=43, secrecy=docpb.SECRECY_CONFIDENTIAL)
    ordinary = make_registered(arrival_number=44)
    for event in (secret, ordinary):
        await publish(js, event, event_id=str(uuid.uuid4()))
    cleared = token(mint, cleared_clerk, "confidential")
    await eventually(
        lambda: inbox(notify, cleared),
        lambda ns: bool(about(ns, secret.document.id)) and bool(about(ns, ordinary.document.id)),
    )

    # The same person, now with a caller token cleared for nothing (the directory lowered it).
    lowered = await inbox(notify, token(mint, cleared_clerk, "none"), page_size=1)
    assert about(lowered, ordinary.document.id)
    assert about(lowered, secret.document.id) == []
