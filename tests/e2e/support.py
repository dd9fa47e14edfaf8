"""What the end-to-end tests share: a gateway client and documents to register."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.js.errors import NotFoundError
from reportlab.pdfgen import canvas
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from vanban.launcher.platform import Platform

PASSWORD = "vanban-demo"


def make_pdf(text: str = "") -> bytes:
    """A real one-page PDF; each call gives different bytes unless `text` is the same."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.drawString(72, 720, "UY BAN NHAN DAN TINH DEMO")
    page.drawString(72, 700, text or f"Van ban {uuid.uuid4()}")
    page.showPage()
    page.save()
    return buffer.getvalue()


EXAMPLE_METADATA = Path(__file__).parents[2] / "docs" / "examples" / "incoming.json"


def metadata(**overrides: Any) -> dict[str, Any]:
    """The README's example registration (docs/examples/incoming.json), with `overrides`."""
    meta: dict[str, Any] = json.loads(EXAMPLE_METADATA.read_text(encoding="utf-8"))
    meta.update(overrides)
    return {k: v for k, v in meta.items() if v is not None}


class Gateway:
    def __init__(self, base_url: str, *, local_address: str | None = None) -> None:
        """`local_address` (e.g. 127.0.0.2; Linux routes all of 127/8 to loopback) makes the
        gateway see this client at another address than the others'."""
        self.base_url = base_url
        transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
        self.http = httpx.Client(base_url=base_url, timeout=60, transport=transport)

    def token(self, username: str, password: str = PASSWORD) -> str:
        response = self.http.post(
            "/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def register(
        self,
        token: str,
        *,
        pdf: bytes | None = None,
        meta: dict[str, Any] | str | None = None,
        headers: dict[str, str] | None = None,
        filename: str = "van-ban.pdf",
    ) -> httpx.Response:
        meta_text = (
            meta if isinstance(meta, str) else json.dumps(meta if meta is not None else metadata())
        )
        return self.http.post(
            "/v1/incoming-documents",
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
            files={"file": (filename, pdf if pdf is not None else make_pdf(), "application/pdf")},
            data={"metadata": meta_text},
        )

    def notifications(self, token: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = ""
        while True:
            response = self.http.get(
                "/v1/notifications",
                params={"page_size": 200, **({"page_token": page} if page else {})},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            body = response.json()
            items.extend(body["items"])
            page = body.get("next_page_token") or ""
            if not page:
                return items


def eventually(check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Polls `check` until it returns a truthy value; the last value is returned either way."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def query(
    platform: Platform, service: str, sql: str, *, agency_index: int = 0, **params: Any
) -> list[Any]:
    """Rows of a read-only query in one service's database of an agency, the first by default
    (to look at what a service stored, never to change it)."""
    agency = platform.agencies[agency_index]

    async def run() -> list[Any]:
        engine = create_async_engine(platform.postgres.dsn(agency.database_name(service)))
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(text(sql), params)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def archive_holds(platform: Platform, data: bytes) -> tuple[bool, int]:
    """Whether the agency's archive has a row for these bytes, and how many versions of them
    its S3 bucket keeps: (False, 0) is nothing stored at all."""
    agency = platform.agencies[0]
    sha256 = hashlib.sha256(data).hexdigest()

    row = bool(query(platform, "archive", "select 1 from objects where sha256 = :sha", sha=sha256))
    versions = [
        item
        for item in platform.seaweed.client().list_objects(
            agency.bucket(), prefix=f"objects/{sha256}", include_version=True
        )
        if item.object_name == f"objects/{sha256}"
    ]
    return row, len(versions)


def archive_was_asked(platform: Platform, data: bytes) -> bool:
    """Whether the archive ever heard of these bytes: an upload reserved for them, or any audit
    entry about their object (stored, released, swept). A refusal the gateway made before the
    upload leaves none; one made after it leaves the release in the audit log."""
    sha256 = hashlib.sha256(data).hexdigest()
    uploads = query(platform, "archive", "select 1 from uploads where sha256 = :sha", sha=sha256)
    audited = query(
        platform,
        "archive",
        "select 1 from audit_log where resource = :resource",
        resource=f"objects/{sha256}",
    )
    return bool(uploads or audited)


@dataclass(frozen=True)
class StoredEvent:
    stream: str
    subject: str
    headers: dict[str, str]
    data: bytes


def stored_events(nats_url: str) -> list[StoredEvent]:
    """Every message the JetStream server at `nats_url` holds, stream by stream."""

    async def read() -> list[StoredEvent]:
        connection = await nats.connect(nats_url)
        try:
            js = connection.jetstream()
            events = []
            for stream in await js.streams_info():
                name = stream.config.name or ""
                if not stream.state.messages:
                    continue
                for sequence in range(stream.state.first_seq, stream.state.last_seq + 1):
                    try:
                        message = await js.get_msg(name, sequence)
                    except NotFoundError:  # a gap left by a deleted message
                        continue
                    events.append(
                        StoredEvent(
                            name,
                            message.subject or "",
                            dict(message.headers or {}),
                            message.data or b"",
                        )
                    )
            return events
        finally:
            await connection.close()

    return asyncio.run(read())
