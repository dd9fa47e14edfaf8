"""How the S3 adapter reads through a stream cut short, with the SDK client faked: a real server
cuts a stream only at a damaged chunk (tests/integration/test_worm.py), not at a dropped
connection, which is what resuming is for."""

from __future__ import annotations

import hashlib
import os
from typing import Any, cast

import pytest
import urllib3.exceptions
from minio import Minio

from vanban.archive.adapters.s3.store import READ_CHUNK_BYTES, S3ObjectStore
from vanban.archive.domain.errors import ObjectUnreadableError
from vanban.platform.errors import UnavailableError

DATA = os.urandom(4 * READ_CHUNK_BYTES + 1000)
SHA256 = hashlib.sha256(DATA).hexdigest()


class FakeResponse:
    def __init__(self, data: bytes, *, cut_after: int | None) -> None:
        self.headers = {"x-amz-version-id": "v1"}
        self._data = data
        self._at = 0
        self._cut = len(data) if cut_after is None else cut_after

    def read(self, amt: int) -> bytes:
        if self._at >= self._cut and self._at < len(self._data):
            raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead")
        part = self._data[self._at : min(self._at + amt, self._cut)]
        self._at += len(part)
        return part

    def close(self) -> None: ...

    def release_conn(self) -> None: ...


class FakeClient:
    """Serves DATA; the n-th GET is cut after `cuts[n]` bytes (None: not cut)."""

    def __init__(self, *cuts: int | None, store_answers: bool = True) -> None:
        self.cuts = list(cuts)
        self.store_answers = store_answers
        self.gets: list[tuple[int, str | None]] = []

    def get_object(
        self, bucket: str, key: str, offset: int = 0, version_id: str | None = None
    ) -> FakeResponse:
        self.gets.append((offset, version_id))
        return FakeResponse(DATA[offset:], cut_after=self.cuts.pop(0) if self.cuts else None)

    def stat_object(self, bucket: str, key: str, version_id: str | None = None) -> Any:
        if not self.store_answers:
            raise urllib3.exceptions.ProtocolError("Connection refused")
        return object()


async def read(client: FakeClient) -> bytes:
    store = S3ObjectStore(cast(Minio, client), bucket="agency")
    return b"".join([chunk async for chunk in store.read(SHA256)])


async def test_a_stream_cut_once_is_resumed_where_it_stopped_from_the_same_version() -> None:
    client = FakeClient(2 * READ_CHUNK_BYTES + 500)

    assert await read(client) == DATA
    # The bytes of the chunk being read when the stream broke are asked for again.
    assert client.gets == [(0, None), (2 * READ_CHUNK_BYTES, "v1")]


async def test_a_stream_cut_again_while_the_store_holds_the_object_is_unreadable() -> None:
    client = FakeClient(2 * READ_CHUNK_BYTES + 500, 100)

    with pytest.raises(ObjectUnreadableError) as caught:
        await read(client)
    assert caught.value.metadata["sha256"] == SHA256
    assert caught.value.metadata["version_id"] == "v1"


async def test_a_stream_cut_again_by_a_store_that_is_gone_is_unavailable() -> None:
    client = FakeClient(2 * READ_CHUNK_BYTES + 500, 100, store_answers=False)

    with pytest.raises(UnavailableError):
        await read(client)
