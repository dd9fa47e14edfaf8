from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from vanban.archive.settings import ArchiveSettings


def make_settings(**overrides: object) -> ArchiveSettings:
    values: dict[str, Any] = {
        "agency_code": "000.00.00.H99",
        "keys_dir": Path("/nonexistent"),
        "database_url": "postgresql+asyncpg://u@localhost/archive",
        "s3_endpoint": "127.0.0.1:9000",
        "s3_access_key": "vanban",
        "s3_secret_key": "a-real-secret-value",
    }
    values.update(overrides)
    return ArchiveSettings(**values)


def test_bucket_is_derived_from_the_agency_code() -> None:
    assert make_settings().bucket == "vanban-000-00-00-h99"


def test_defaults() -> None:
    settings = make_settings()
    assert settings.max_object_bytes == 52428800
    assert settings.unclaimed_ttl_seconds == 24 * 3600
    assert settings.sweep_interval_seconds == 60
    assert settings.s3_secure is False


def test_secret_is_not_shown() -> None:
    assert "a-real-secret-value" not in repr(make_settings())


@pytest.mark.parametrize("secret", ["", "   ", "minioadmin", "changeme"])
def test_empty_or_placeholder_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="s3_secret_key"):
        make_settings(s3_secret_key=secret)


def test_empty_access_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="s3_access_key"):
        make_settings(s3_access_key="")


@pytest.mark.parametrize("endpoint", ["http://minio:9000", "minio", "minio:port"])
def test_endpoint_must_be_host_and_port(endpoint: str) -> None:
    with pytest.raises(ValidationError, match="s3_endpoint"):
        make_settings(s3_endpoint=endpoint)


@pytest.mark.parametrize("bucket", ["Vanban", "ab", "vanban_archive", "-vanban", "a.b.c"])
def test_bucket_names_s3_refuses_are_refused(bucket: str) -> None:
    with pytest.raises(ValidationError, match="bucket"):
        make_settings(bucket=bucket)


def test_environment_uses_the_archive_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VANBAN_AGENCY_CODE", "000.00.00.G22")
    monkeypatch.setenv("VANBAN_KEYS_DIR", "/keys")
    monkeypatch.setenv("VANBAN_ARCHIVE_DATABASE_URL", "postgresql+asyncpg://u@db/archive")
    monkeypatch.setenv("VANBAN_ARCHIVE_S3_ENDPOINT", "minio:9000")
    monkeypatch.setenv("VANBAN_ARCHIVE_S3_ACCESS_KEY", "archive")
    monkeypatch.setenv("VANBAN_ARCHIVE_S3_SECRET_KEY", "s3cr3t-from-a-vault")
    monkeypatch.setenv("VANBAN_ARCHIVE_MAX_OBJECT_BYTES", "1024")
    settings = ArchiveSettings()
    assert settings.bucket == "vanban-000-00-00-g22"
    assert settings.max_object_bytes == 1024
    assert settings.s3_secret_key.get_secret_value() == "s3cr3t-from-a-vault"
