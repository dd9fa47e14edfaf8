"""Validation of every signature of a PDF with pyHanko (docs/notes/signing-research.md, 5).

Any PDF may come in, so nothing in a signature may crash the validation: pyHanko raises several
exception types on a damaged signature (not only its own), and each is reported as that
signature's `error`. What pyHanko does not judge, this module adds: bytes appended after the last
revision leave pyHanko's verdict True (the signature then only "covers its revision"), so they
are looked for here and make every signature not ok.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from vanban.platform.errors import InvalidArgumentError
from vanban.signing.adapters.ca import as_asn1
from vanban.signing.domain.model import (
    CertificateSummary,
    PadesLevel,
    SignatureCheck,
    ValidationResult,
)

logger = logging.getLogger(__name__)

# Subject attributes of a natural person's certificate (ETSI EN 319 412-2): a certificate that
# carries organizationIdentifier and none of these is an organisation's (EN 319 412-3).
_ORGANISATION_IDENTIFIER = "2.5.4.97"
_PERSON_ATTRIBUTES = frozenset(
    {
        "2.5.4.4",  # surname
        "2.5.4.5",  # serialNumber
        "2.5.4.42",  # givenName
        "2.5.4.65",  # pseudonym
    }
)
_NAME_LABELS = {
    NameOID.SURNAME: "SN",
    NameOID.GIVEN_NAME: "givenName",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
    NameOID.TITLE: "title",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.PSEUDONYM: "pseudonym",
}
# Signatures validated in one file (a document carries a handful).
MAX_SIGNATURES = 20
_ACCEPTED_COVERAGE = (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION)
# PDF white-space (ISO 32000-1, 7.2.2): what may follow the last %%EOF without being data.
_PDF_WHITESPACE = b"\x00\t\n\x0c\r "
_EOF_MARKER = re.compile(rb"startxref[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]*%%EOF")


async def validate_pdf(data: bytes, *, trust_roots: Sequence[x509.Certificate]) -> ValidationResult:
    """Validates every signature of `data` against `trust_roots`, without fetching anything
    (no CRL or OCSP: revocation is checked only as far as the file itself carries it).

    Raises InvalidArgumentError, reason INVALID_PDF when `data` is not a PDF that can be read,
    or ENCRYPTED_PDF when it is encrypted. A damaged signature is not an error: it is reported
    with `error` set and `ok` False.
    """
    _install_log_filter()
    token = _validating.set(True)
    try:
        reader, trailing, unreadable = _open(data)
        roots = [as_asn1(cert) for cert in trust_roots]
        found = _signatures(reader)
        if unreadable is not None and not found:
            # Nothing signed precedes what cannot be read (a truncated file, say): there is no
            # signature to report the trailing bytes on, and the file is simply broken.
            raise _invalid_pdf(unreadable)
        facts = await _FileFacts.of(reader, found, roots)
        checks = [
            await _check(item, roots=roots, facts=facts, trailing_data=trailing)
            for item in found
            # A document timestamp (B-LTA) is nobody's signature: it only raises the level of
            # the signatures before it.
            if not _is_document_timestamp(item)
        ]
    finally:
        _validating.reset(token)
    return ValidationResult(
        file_sha256=hashlib.sha256(data).hexdigest(),
        file_size=len(data),
        signatures=tuple(checks),
    )


def certificate_summary(cert: x509.Certificate) -> CertificateSummary:
    """The fields of a certificate a report shows (CertificateInfo)."""
    serial = cert.serial_number
    return CertificateSummary(
        subject=_format_name(cert.subject),
        issuer=_format_name(cert.issuer),
        serial_number=_hex_serial(serial),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        organization_identifier=_organization_identifier(cert.subject),
        issuer_organization_identifier=_organization_identifier(cert.issuer),
    )


def _organization_identifier(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    return str(values[0].value) if values else ""


# --- reading the file --------------------------------------------------------------------------


def _open(data: bytes) -> tuple[PdfFileReader, bool, Exception | None]:
    """The reader, whether bytes follow the last revision's %%EOF, and, when only the file up to
    its last %%EOF could be read, why the whole file could not."""
    if b"%PDF-" not in data[:1024]:  # where readers look for the header (ISO 32000-1, 7.5.2)
        raise InvalidArgumentError("The file is not a PDF (no %PDF- header).", reason="INVALID_PDF")
    try:
        reader = _read(data)
    except InvalidArgumentError:
        raise
    except Exception as whole_file_error:
        # pyHanko looks for %%EOF only in the last 1024 bytes: more appended data hides it.
        # Read the file as it was up to its last %%EOF, and report what follows as trailing.
        cut = data.rfind(b"%%EOF")
        if cut < 0 or not data[cut + 5 :].strip(_PDF_WHITESPACE):
            raise _invalid_pdf(whole_file_error) from None
        try:
            reader = _read(data[: cut + 5] + b"\n")
        except InvalidArgumentError:
            raise
        except Exception:
            raise _invalid_pdf(whole_file_error) from None
        return reader, True, whole_file_error
    return reader, _has_trailing_data(reader, data), None


def _read(data: bytes) -> PdfFileReader:
    reader = PdfFileReader(io.BytesIO(data))
    if reader.encrypted:
        raise InvalidArgumentError(
            "The PDF is encrypted; its signatures cannot be validated.", reason="ENCRYPTED_PDF"
        )
    # The reader parses lazily: make it read the catalog now, so a broken one is INVALID_PDF.
    reader.root.get("/AcroForm")
    return reader


def _invalid_pdf(cause: Exception) -> InvalidArgumentError:
    return InvalidArgumentError(f"The PDF cannot be read: {_describe(cause)}", reason="INVALID_PDF")


def _has_trailing_data(reader: PdfFileReader, data: bytes) -> bool:
    """Whether anything but white-space follows the %%EOF that ends the last revision."""
    xrefs = reader.xrefs
    # The cross-reference section that ends last in the file (not the newest by revision
    # number: a linearized file's newest is its first-page section, near the start).
    end = max(
        xrefs.get_xref_container_info(revision).end_location
        for revision in range(xrefs.total_revisions)
    )
    # After it come its trailer (for a table), then "startxref <offset> %%EOF". The first such
    # marker is the one that counts: a second one further on would be appended data dressed
    # up as the end of the file.
    start = data.find(b"startxref", end)
    match = _EOF_MARKER.match(data, start) if start >= 0 else None
    if match is None or int(match.group(1)) != reader.last_startxref:
        return True
    return bool(data[match.end() :].strip(_PDF_WHITESPACE))


@dataclass(frozen=True, slots=True)
class _Found:
    """One filled signature field: its signature as pyHanko reads it, or why it cannot."""

    field_name: str
    field: generic.DictionaryObject
    field_ref: generic.Reference | None
    revision: int
    embedded: EmbeddedPdfSignature | None
    error: str


def _signatures(reader: PdfFileReader) -> list[_Found]:
    # Like `reader.embedded_signatures`, which fails as a whole on the first signature it
    # cannot parse, but one signature at a time; document timestamps are kept (for the level).
    found = []
    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:
        raise _invalid_pdf(exc) from None
    if len(fields) > MAX_SIGNATURES:
        # Each signature's difference analysis reads every later revision: the cost grows with
        # the square of their number, and no document of an agency carries this many.
        raise InvalidArgumentError(
            f"the PDF carries {len(fields)} signatures; at most {MAX_SIGNATURES} are validated",
            reason="TOO_MANY_SIGNATURES",
        )
    for index, (name, value_ref, field_ref) in enumerate(fields):
        field = field_ref.get_object()
        try:
            revision = reader.xrefs.get_last_change(value_ref.reference)
        except Exception:
            revision = reader.xrefs.total_revisions + index  # after the real ones, in field order
        try:
            embedded = EmbeddedPdfSignature(reader, field, name)
        except Exception as exc:
            logger.info(
                "signature cannot be read", extra={"field": str(name), "error": _describe(exc)}
            )
            found.append(
                _Found(str(name), field, field_ref.reference, revision, None, _describe(exc))
            )
            continue
        found.append(_Found(str(name), field, field_ref.reference, revision, embedded, ""))
    found.sort(key=lambda f: f.revision)
    return found


@dataclass(frozen=True, slots=True)
class _FileFacts:
    """What the signatures' levels and placement depend on, beyond each signature itself."""

    dss_has_validation_data: bool
    # The revisions that added a document timestamp (/DocTimeStamp) whose token validates.
    document_timestamp_revisions: tuple[int, ...]
    # Each page object's (id, generation), in page order.
    pages: tuple[tuple[int, int], ...]

    @classmethod
    async def of(
        cls, reader: PdfFileReader, found: Sequence[_Found], roots: list[asn1_x509.Certificate]
    ) -> _FileFacts:
        revisions = []
        for item in found:
            if item.embedded is not None and _is_document_timestamp(item):
                if await _document_timestamp_holds(item.embedded, roots):
                    revisions.append(item.revision)
        return cls(
            dss_has_validation_data=_dss_has_validation_data(reader),
            document_timestamp_revisions=tuple(revisions),
            pages=_pages(reader),
        )


def _is_document_timestamp(found: _Found) -> bool:
    return found.embedded is not None and found.embedded.sig_object_type == "/DocTimeStamp"


async def _document_timestamp_holds(
    embedded: EmbeddedPdfSignature, roots: list[asn1_x509.Certificate]
) -> bool:
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status = await async_validate_pdf_timestamp(embedded, context)
    except Exception as exc:
        logger.info(
            "document timestamp cannot be validated",
            extra={"field": embedded.field_name, "error": _describe(exc)},
        )
        return False
    return bool(status.intact and status.valid and status.trusted)


def _dss_has_validation_data(reader: PdfFileReader) -> bool:
    try:
        dss = reader.root["/DSS"]
        return any(len(dss.get(key, ())) > 0 for key in ("/Certs", "/OCSPs", "/CRLs"))
    except Exception:  # none, or unreadable: either way no validation data to count on
        return False


def _pages(reader: PdfFileReader) -> tuple[tuple[int, int], ...]:
    pages: list[tuple[int, int]] = []
    try:
        _walk_pages(reader.root.raw_get("/Pages"), set(), pages)
    except Exception:
        logger.info("the page tree cannot be read; signature pages are not reported")
    return tuple(pages)


def _walk_pages(node_ref: Any, seen: set[tuple[int, int]], pages: list[tuple[int, int]]) -> None:
    if not isinstance(node_ref, generic.IndirectObject):
        return
    key = (node_ref.idnum, node_ref.generation)
    if key in seen:
        return
    seen.add(key)
    node = node_ref.get_object()
    if "/Kids" in node:
        for kid in node["/Kids"]:
            _walk_pages(kid, seen, pages)
    else:
        pages.append(key)


# --- one signature -----------------------------------------------------------------------------


async def _check(
    found: _Found,
    *,
    roots: list[asn1_x509.Certificate],
    facts: _FileFacts,
    trailing_data: bool,
) -> SignatureCheck:
    box, page = _placement(found, facts.pages)
    embedded = found.embedded
    common: dict[str, Any] = {
        "field_name": found.field_name,
        "trailing_data": trailing_data,
        "box": box,
        "page": page,
    }
    if embedded is None:
        return SignatureCheck(**common, error=found.error)
    signer_cert = _signer_certificate(embedded)
    if signer_cert is not None:
        common["signer"] = _summary_of(signer_cert)
        common["organisation"] = _is_organisation(signer_cert)
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status = await async_validate_pdf_signature(embedded, context)
    except Exception as exc:
        logger.info(
            "signature cannot be validated",
            extra={"field": found.field_name, "error": _describe(exc)},
        )
        return SignatureCheck(**common, error=_describe(exc))
    return _from_status(status, found=found, facts=facts, common=common)


def _from_status(
    status: PdfSignatureStatus,
    *,
    found: _Found,
    facts: _FileFacts,
    common: dict[str, Any],
) -> SignatureCheck:
    timestamp = status.timestamp_validity
    modification = status.modification_level
    suspicious = isinstance(status.diff_result, SuspiciousModification) or (
        modification is ModificationLevel.OTHER
    )
    path = status.validation_path
    chain = (
        tuple(_summary_of(c) for c in reversed(list(path.iter_certs(include_root=True))))
        if path is not None
        else ()
    )
    ok = (
        status.bottom_line
        and not suspicious
        and status.coverage in _ACCEPTED_COVERAGE
        and not common["trailing_data"]
    )
    return SignatureCheck(
        **common,
        chain=chain,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        trust_problem=_trust_problem(status),
        signing_time=status.signer_reported_dt,
        has_timestamp=timestamp is not None,
        timestamp_time=timestamp.timestamp if timestamp is not None else None,
        timestamp_valid=timestamp is not None
        and timestamp.intact
        and timestamp.valid
        and timestamp.trusted,
        coverage=status.coverage.name if status.coverage is not None else "",
        modification_level=modification.name if modification is not None else "",
        docmdp_ok=bool(status.docmdp_ok),
        level=_level(status, found=found, facts=facts),
        summary=status.summary(),
        ok=ok,
    )


def _trust_problem(status: PdfSignatureStatus) -> str:
    """The AdES sub-indication (ETSI EN 319 102-1) of why the signature is not trusted."""
    if status.trusted:
        return ""
    if status.trust_problem_indic is not None:
        return str(status.trust_problem_indic.standard_name)
    # pyHanko trusts no broken signature, whatever its chain: name the break.
    if not status.intact:
        return "HASH_FAILURE"
    if not status.valid:
        return "SIG_CRYPTO_FAILURE"
    return "NO_CERTIFICATE_CHAIN_FOUND" if status.validation_path is None else ""


def _level(status: PdfSignatureStatus, *, found: _Found, facts: _FileFacts) -> PadesLevel:
    """The level by what the file carries, each building on the one before as in ETSI EN
    319 142-1: B-T a signature timestamp token, B-LT also validation data in the document
    security store, B-LTA also a document timestamp in a later revision. Whether the data
    is enough for a validation years later is not judged here."""
    if status.timestamp_validity is None:
        return PadesLevel.B_B
    if not facts.dss_has_validation_data:
        return PadesLevel.B_T
    if not any(r > found.revision for r in facts.document_timestamp_revisions):
        return PadesLevel.B_LT
    return PadesLevel.B_LTA


def _placement(
    found: _Found, pages: Sequence[tuple[int, int]]
) -> tuple[tuple[float, float, float, float] | None, int | None]:
    """The signature's widget rectangle and page; (None, None) when invisible or unreadable."""
    try:
        widget, widget_ref = _widget(found.field, found.field_ref)
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        page = _page_of(widget, widget_ref, pages)
    except Exception:
        return None, None
    box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    if box[0] == box[2] or box[1] == box[3]:
        return None, None
    return box, page


def _widget(
    field: generic.DictionaryObject, field_ref: generic.Reference | None
) -> tuple[generic.DictionaryObject, generic.Reference | None]:
    if "/Rect" in field:  # the field and its widget merged, as pyHanko writes them
        return field, field_ref
    for kid in field["/Kids"]:
        annotation = kid.get_object()
        if "/Rect" in annotation:
            return annotation, kid.reference if isinstance(kid, generic.IndirectObject) else None
    raise KeyError("/Rect")


def _page_of(
    widget: generic.DictionaryObject,
    widget_ref: generic.Reference | None,
    pages: Sequence[tuple[int, int]],
) -> int | None:
    page_ref = widget.raw_get("/P") if "/P" in widget else None
    if isinstance(page_ref, generic.IndirectObject):
        key = (page_ref.idnum, page_ref.generation)
        if key in pages:
            return pages.index(key)
    # /P is optional: look for the page that lists the widget among its annotations.
    if widget_ref is None:
        return None
    target = (widget_ref.idnum, widget_ref.generation)
    for number, (idnum, generation) in enumerate(pages):
        page = generic.Reference(idnum, generation, widget_ref.pdf).get_object()
        if not isinstance(page, generic.DictionaryObject):
            continue
        for annotation in page.get("/Annots", ()):
            if isinstance(annotation, generic.IndirectObject) and (
                (annotation.idnum, annotation.generation) == target
            ):
                return number
    return None


# --- certificates -----------------------------------------------------------------------------


def _signer_certificate(embedded: EmbeddedPdfSignature) -> asn1_x509.Certificate | None:
    try:
        return embedded.signer_cert
    except Exception:
        return None


def _summary_of(cert: asn1_x509.Certificate) -> CertificateSummary:
    der = cert.dump()
    try:
        return certificate_summary(x509.load_der_x509_certificate(der))
    except ValueError:
        # cryptography refuses some encodings other libraries accept: report what asn1crypto read.
        return CertificateSummary(
            subject=cert.subject.human_friendly,
            issuer=cert.issuer.human_friendly,
            serial_number=_hex_serial(cert.serial_number),
            not_before=cert.not_valid_before,
            not_after=cert.not_valid_after,
            sha256=hashlib.sha256(der).hexdigest(),
        )


def _is_organisation(cert: asn1_x509.Certificate) -> bool:
    try:
        types = {attr["type"].dotted for rdn in cert.subject.chosen for attr in rdn}
    except Exception:
        return False
    return _ORGANISATION_IDENTIFIER in types and not (types & _PERSON_ATTRIBUTES)


def _format_name(name: x509.Name) -> str:
    # RFC 4514 order (most specific first), with a space after each comma for people to read.
    return ", ".join(rdn.rfc4514_string(_NAME_LABELS) for rdn in reversed(name.rdns))


def _hex_serial(serial: int) -> str:
    digits = format(serial, "x")
    return digits if len(digits) % 2 == 0 else "0" + digits


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- logging -----------------------------------------------------------------------------------

_validating: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vanban_signing_validating", default=False
)


class _ExpectedFailureFilter(logging.Filter):
    """While a PDF is validated, pyHanko logs what the result reports anyway (no path to a trust
    root, an unexplained revision, a damaged attribute) at WARNING or ERROR with a traceback.
    Such a record keeps its text and the exception's, loses the traceback and goes down to
    INFO. Records outside a validation, and those without an exception, are left alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            _validating.get()
            and record.levelno >= logging.WARNING
            and record.exc_info
            and record.exc_info[1] is not None
        ):
            record.msg = f"{record.getMessage()} ({_describe(record.exc_info[1])})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.INFO
            record.levelname = logging.getLevelName(logging.INFO)
        return True


# A logger's filters see only the records made on that very logger, so each is named.
_NOISY_LOGGERS = (
    "pyhanko.sign.validation.generic_cms",  # path building, certificate processing
    "pyhanko.sign.validation.pdf_embedded",  # seed values
    "pyhanko.sign.validation.status",  # attribute certificates
    "pyhanko.sign.diff_analysis.policies",  # suspicious revisions
)


@functools.cache
def _install_log_filter() -> None:
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).addFilter(_ExpectedFailureFilter())
