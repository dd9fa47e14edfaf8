from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings

# S3 bucket names: 3-63 characters of lower-case letters, digits and hyphens, starting and ending
# with a letter or digit. Dots are allowed by S3 but break virtual-host TLS, so we refuse them.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "password", "minioadmin"}
MIB = 1024 * 1024


def default_bucket(agency_code: str) -> str:
    """`000.00.00.H99` -> `vanban-000-00-00-h99`: one bucket per agency."""
    return "vanban-" + agency_code.lower().replace(".", "-")


class ArchiveSettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_ARCHIVE_", extra="ignore", populate_by_name=True
    )

    # host:port of the S3 API (MinIO in production, SeaweedFS locally).
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: SecretStr
    s3_secure: bool = False
    # Defaults to one derived from the agency code.
    bucket: str = ""
    max_object_bytes: int = Field(default=50 * MIB, gt=0)
    # An upload nobody refers to within this long (after its last upload) is deleted.
    # Long enough to outlast an outage of NATS or of this service: a registration's claim
    # arriving after it would find its file already collected.
    unclaimed_ttl_seconds: float = Field(default=24 * 3600, gt=0)
    sweep_interval_seconds: float = Field(default=60, gt=0)
    # Bytes left in the bucket without a database row (a crash between upload and commit) are
    # looked for this often; a full listing of the bucket is expensive, so not every sweep.
    orphan_scan_interval_seconds: float = Field(default=3600, gt=0)
    # The agency's calendar: a dossier's dates, its handover and retention are counted in it.
    timezone: str = "Asia/Ho_Chi_Minh"
    # Fixity: each run re-reads this share of the kept objects (those checked longest ago
    # first), so every object is checked once every 1/share runs (20 runs, 20 hours, here).
    fixity_share: float = Field(default=0.05, gt=0, le=1)
    fixity_interval_seconds: float = Field(default=3600, gt=0)
    # Closed dossiers due for handover within 30 days are looked for this often.
    handover_check_interval_seconds: float = Field(default=6 * 3600, gt=0)
    # S3 object-lock mode of handed-over files per retention code ("01".."07"); COMPLIANCE (not
    # even the bucket's owner can delete before the date) for any code not named.
    lock_modes: dict[str, Literal["COMPLIANCE", "GOVERNANCE"]] = Field(default_factory=dict)
    # The retain-until date that stands for "permanent" (retention 01): the last day both MinIO
    # and SeaweedFS can write (four-digit years).
    permanent_lock_until: date = date(9999, 12, 31)
    # Only the embedded default: seed an approved demo dossier list for the current year.
    demo_list: bool = False
    # Where uploads wait while they are received and hashed; the system temp dir by default.
    spool_dir: Path | None = None

    @field_validator("s3_endpoint")
    @classmethod
    def _endpoint_shape(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if "://" in value or "/" in value or not host or not port.isdigit():
            raise ValueError("s3_endpoint must be host:port, without a scheme")
        return value

    @field_validator("s3_access_key")
    @classmethod
    def _access_key_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("s3_access_key must not be empty")
        return value

    @field_validator("s3_secret_key")
    @classmethod
    def _secret_key_given(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if not secret.strip():
            raise ValueError("s3_secret_key must not be empty")
        if secret.lower() in _PLACEHOLDER_SECRETS:
            raise ValueError("s3_secret_key is a well-known placeholder; set a real secret")
        return value

    @model_validator(mode="after")
    def _bucket_name(self) -> ArchiveSettings:
        if not self.bucket:
            self.bucket = default_bucket(self.agency_code)
        if not _BUCKET_RE.match(self.bucket):
            raise ValueError("bucket must be 3-63 lower-case letters, digits and hyphens")
        return self
