import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vanban.archive.domain.errors import (
    ClaimedObjectError,
    EmptyObjectError,
    FixityMismatchError,
    ObjectTooLargeError,
    SizeMismatchError,
)
from vanban.archive.domain.model import (
    ContentMeter,
    FixityCheck,
    ObjectHeader,
    StoredObject,
    object_key,
    validated_sha256,
)
from vanban.platform.errors import ErrorCode, InvalidArgumentError
from vanban.platform.stored_files import DEFAULT_CONTENT_TYPE

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=1)


def make_object(**overrides: object) -> StoredObject:
    values: dict[str, Any] = {
        "sha256": "ab" * 32,
        "size": 10,
        "content_type": "application/pdf",
        "created_at": NOW - timedelta(hours=2),
        "last_put_at": NOW - timedelta(hours=2),
        "claimed_at": None,
    }
    values.update(overrides)
    return StoredObject(**values)


def make_header(**overrides: object) -> ObjectHeader:
    values: dict[str, Any] = {
        "content_type": "application/pdf",
        "file_name": "cong-van.pdf",
        "declared_size": 0,
    }
    values.update(overrides)
    return ObjectHeader(**values)


class TestContentMeter:
    def test_hash_and_size_are_those_of_all_chunks(self) -> None:
        meter = ContentMeter(max_bytes=100)
        for chunk in (b"van ", b"ban ", b"den"):
            meter.feed(chunk)
        assert meter.finish() == (hashlib.sha256(b"van ban den").hexdigest(), 11)

    def test_content_exactly_at_the_limit_is_accepted(self) -> None:
        meter = ContentMeter(max_bytes=4)
        meter.feed(b"abcd")
        assert meter.finish()[1] == 4

    def test_stops_at_the_chunk_that_passes_the_limit(self) -> None:
        meter = ContentMeter(max_bytes=5)
        meter.feed(b"abc")
        with pytest.raises(ObjectTooLargeError) as caught:
            meter.feed(b"def")
        assert caught.value.code is ErrorCode.RESOURCE_EXHAUSTED
        assert caught.value.reason == "OBJECT_TOO_LARGE"
        assert meter.size == 3

    def test_empty_content_is_refused(self) -> None:
        with pytest.raises(EmptyObjectError) as caught:
            ContentMeter(max_bytes=5).finish()
        assert caught.value.reason == "EMPTY_OBJECT"

    def test_more_than_declared_fails_as_soon_as_it_arrives(self) -> None:
        meter = ContentMeter(max_bytes=100, declared_size=4)
        with pytest.raises(SizeMismatchError):
            meter.feed(b"12345")

    def test_less_than_declared_fails_at_the_end(self) -> None:
        meter = ContentMeter(max_bytes=100, declared_size=4)
        meter.feed(b"123")
        with pytest.raises(SizeMismatchError) as caught:
            meter.finish()
        assert caught.value.metadata == {"declared_size": "4", "received_size": "3"}

    def test_declared_size_that_matches_passes(self) -> None:
        meter = ContentMeter(max_bytes=100, declared_size=3)
        meter.feed(b"123")
        assert meter.finish()[1] == 3


class TestObjectHeader:
    def test_missing_content_type_defaults_to_octet_stream(self) -> None:
        assert make_header(content_type="  ").validated(max_bytes=10).content_type == (
            DEFAULT_CONTENT_TYPE
        )

    def test_content_type_with_parameters_is_accepted(self) -> None:
        header = make_header(content_type="text/plain; charset=utf-8").validated(max_bytes=10)
        assert header.content_type == "text/plain; charset=utf-8"

    @pytest.mark.parametrize("content_type", ["pdf", "application/", "/pdf", "a b/c"])
    def test_malformed_content_type_is_refused(self, content_type: str) -> None:
        with pytest.raises(InvalidArgumentError) as caught:
            make_header(content_type=content_type).validated(max_bytes=10)
        assert [v.field for v in caught.value.violations] == ["header.content_type"]

    def test_negative_declared_size_and_long_name_are_both_reported(self) -> None:
        with pytest.raises(InvalidArgumentError) as caught:
            make_header(declared_size=-1, file_name="x" * 256).validated(max_bytes=10)
        assert {v.field for v in caught.value.violations} == {
            "header.declared_size",
            "header.file_name",
        }

    def test_declared_size_over_the_limit_is_refused_before_any_byte(self) -> None:
        with pytest.raises(ObjectTooLargeError):
            make_header(declared_size=11).validated(max_bytes=10)


class TestSha256:
    def test_upper_case_is_normalised(self) -> None:
        assert validated_sha256("AB" * 32) == "ab" * 32

    @pytest.mark.parametrize("value", ["", "ab" * 31, "zz" * 32, "ab" * 32 + "a", "../etc"])
    def test_anything_but_64_hex_digits_is_refused(self, value: str) -> None:
        with pytest.raises(InvalidArgumentError) as caught:
            validated_sha256(value)
        assert caught.value.reason == "INVALID_SHA256"

    def test_key_is_under_objects(self) -> None:
        assert object_key("ab" * 32) == "objects/" + "ab" * 32


class TestFixity:
    def test_same_bytes_verify(self) -> None:
        check = FixityCheck(sha256=hashlib.sha256(b"abc").hexdigest(), size=3)
        check.feed(b"ab")
        check.feed(b"c")
        check.verify()

    def test_different_bytes_of_the_same_length_are_data_loss(self) -> None:
        check = FixityCheck(sha256=hashlib.sha256(b"abc").hexdigest(), size=3)
        check.feed(b"abd")
        with pytest.raises(FixityMismatchError) as caught:
            check.verify()
        assert caught.value.code is ErrorCode.DATA_LOSS
        assert caught.value.reason == "FIXITY_MISMATCH"

    def test_truncated_bytes_are_data_loss(self) -> None:
        check = FixityCheck(sha256=hashlib.sha256(b"abc").hexdigest(), size=3)
        check.feed(b"ab")
        with pytest.raises(FixityMismatchError):
            check.verify()


class TestCollection:
    def test_unclaimed_object_past_its_ttl_is_collectable(self) -> None:
        assert make_object().collectable(now=NOW, ttl=TTL)

    def test_a_fresh_upload_is_not(self) -> None:
        obj = make_object(last_put_at=NOW - timedelta(minutes=59))
        assert not obj.collectable(now=NOW, ttl=TTL)

    def test_the_ttl_counts_from_the_last_upload_not_the_first(self) -> None:
        obj = make_object(created_at=NOW - timedelta(days=3), last_put_at=NOW)
        assert not obj.collectable(now=NOW, ttl=TTL)

    def test_a_claimed_object_is_never_collectable(self) -> None:
        obj = make_object(claimed_at=NOW - timedelta(hours=1, minutes=30))
        assert not obj.collectable(now=NOW + timedelta(days=365), ttl=TTL)
        with pytest.raises(ClaimedObjectError):
            obj.ensure_collectable(now=NOW, ttl=TTL)
