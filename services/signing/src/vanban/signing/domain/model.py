"""The signing service's domain: what a validation found in a signed PDF.

The types mirror `vanban.signing.v1` (CertificateInfo, SignatureReport, ValidationReport) field
for field, so that the gRPC adapter converts them one to one; the report's id, file name and who
validated it when belong to the stored report, not to the result of one validation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class PadesLevel(enum.StrEnum):
    """The PAdES baseline level (ETSI EN 319 142-1) a signature reaches, as found in the file."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateSummary:
    """A certificate as a reader sees it (chứng thư số)."""

    # Most specific attribute first, e.g. "CN=Nguyễn Văn An, O=Ủy ban nhân dân tỉnh Demo, C=VN".
    subject: str
    issuer: str
    # Lower-case hex, an even number of digits (the DER integer's bytes).
    serial_number: str
    not_before: datetime
    not_after: datetime
    # Lower-case hex SHA-256 of the DER certificate.
    sha256: str
    # The subject's organizationIdentifier, when it has one (the agency code of an
    # organisation certificate).
    organization_identifier: str = ""
    # The issuer's, when it has one (a development agency CA names its agency's code).
    issuer_organization_identifier: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCheck:
    """What validation found for one signature of a PDF (kết quả kiểm tra một chữ ký số).

    The defaults are the verdicts of a signature that could not be read: nothing holds until
    validation says so.
    """

    field_name: str
    # The signing certificate; None when the signature could not be read at all.
    signer: CertificateSummary | None = None
    # From the signer to the trust root, signer first; empty when no path to a root was found.
    chain: tuple[CertificateSummary, ...] = ()
    # The signed bytes are unchanged (the digest matches).
    intact: bool = False
    # The cryptographic signature verifies.
    valid: bool = False
    # The chain ends at one of the trust roots.
    trusted: bool = False
    # Why the chain is not trusted, e.g. NO_CERTIFICATE_CHAIN_FOUND; empty when trusted.
    trust_problem: str = ""
    # The time the signer claimed (not proof of anything by itself).
    signing_time: datetime | None = None
    has_timestamp: bool = False
    timestamp_time: datetime | None = None
    # The timestamp token is intact, valid and from a trusted TSA.
    timestamp_valid: bool = False
    # ENTIRE_FILE, ENTIRE_REVISION (later revisions follow), CONTIGUOUS_BLOCK_FROM_START or UNCLEAR.
    coverage: str = ""
    # What later revisions changed: NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER.
    modification_level: str = ""
    # The later revisions keep to what the signature allows.
    docmdp_ok: bool = False
    # None when the signature could not be read.
    level: PadesLevel | None = None
    # pyHanko's summary, e.g. INTACT:TRUSTED,UNTOUCHED.
    summary: str = ""
    # The one verdict: intact, valid, trusted, nothing suspicious added afterwards and no bytes
    # after the last revision.
    ok: bool = False
    # Why the signature could not be validated at all; empty otherwise.
    error: str = ""
    # The signing certificate is an organisation's (chữ ký số của cơ quan), not a person's.
    organisation: bool = False
    # The file has bytes after the end of its last revision (the same for every signature).
    trailing_data: bool = False
    # The widget's rectangle (x1, y1, x2, y2 in PDF points from the page's bottom left,
    # x1 < x2, y1 < y2) and its page (0-based); both None for an invisible signature.
    box: tuple[float, float, float, float] | None = None
    page: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationResult:
    """The validation of every signature of one PDF (báo cáo kiểm tra chữ ký số)."""

    # Lower-case hex SHA-256 of the whole file as received.
    file_sha256: str
    file_size: int
    # In the order they were made, oldest first.
    signatures: tuple[SignatureCheck, ...] = ()

    @property
    def ok(self) -> bool:
        """At least one signature, and every one ok: an unsigned PDF is not a valid signed one."""
        return bool(self.signatures) and all(s.ok for s in self.signatures)
