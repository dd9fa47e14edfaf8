"""The agency's certificates and what makes one usable (ADR 0011, 2)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from vanban.platform.errors import FailedPreconditionError


class Role(StrEnum):
    TRUST_ROOT = "trust_root"
    ORGANISATION = "organisation"
    PERSON = "person"
    TIMESTAMPING = "timestamping"


class Status(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(der(certificate)).hexdigest()


def is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


@dataclass(frozen=True, slots=True)
class StoredCertificate:
    id: str
    role: Role
    certificate: x509.Certificate
    key_label: str | None
    person_id: str | None
    imported: bool
    created_at: datetime
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    @property
    def sha256(self) -> str:
        return fingerprint(self.certificate)

    def status(self, now: datetime) -> Status:
        if self.revoked_at is not None and self.revoked_at <= now:
            return Status.REVOKED
        if now < self.certificate.not_valid_before_utc:
            return Status.NOT_YET_VALID
        if now >= self.certificate.not_valid_after_utc:
            return Status.EXPIRED
        return Status.VALID

    def require_usable(self, now: datetime) -> None:
        """Checked before every signature: a certificate past its dates or revoked signs
        nothing."""
        status = self.status(now)
        if status is Status.REVOKED:
            raise FailedPreconditionError(
                f"the certificate {self.certificate.subject.rfc4514_string()} is revoked",
                reason="CERTIFICATE_REVOKED",
            )
        if status is not Status.VALID:
            raise FailedPreconditionError(
                f"the certificate {self.certificate.subject.rfc4514_string()} is not valid now "
                f"(valid {self.certificate.not_valid_before_utc:%Y-%m-%d} to "
                f"{self.certificate.not_valid_after_utc:%Y-%m-%d})",
                reason="CERTIFICATE_EXPIRED",
            )


def choose(candidates: list[StoredCertificate], now: datetime) -> StoredCertificate | None:
    """The certificate to sign with among those of one key: a usable imported one (a real CA's)
    before the development CA's, the newest first."""
    usable = [c for c in candidates if c.status(now) is Status.VALID]
    usable.sort(key=lambda c: (c.imported, c.created_at), reverse=True)
    return usable[0] if usable else None
