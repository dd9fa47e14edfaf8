"""edXML packages and status messages of QCVN 102:2016: the model, the builder and a parser for
packages from other agencies (DOMAIN.md, "Exchange between agencies"; docs/notes/
exchange-research.md, 5).

Every package that reaches `parse` may be hostile. It is parsed by the platform's hardened
parser (no DOCTYPE, so no entity of any kind; nothing fetched), then read by namespace URI and
local name only: senders differ in prefixes (`edXML:` or none) and in the order of elements, and
add elements of their own, which are ignored. What the model keeps is checked against explicit
limits, those of the documents service's RegisterIncomingDocumentRequest where it has them,
so that a package is refused here with an edXML reason rather than later.

Wire formats: dates `yyyy/MM/dd`, timestamps `yyyy/MM/dd HH:mm:ss` in Vietnam time (UTC+7).
The XMLDSig signature is not made here: the signing service appends an enveloped `ds:Signature`
as the last child of the root element, which `parse` accepts and leaves to the signing service.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from typing import Final, cast

from lxml import etree

from vanban.platform.errors import InvalidArgumentError
from vanban.platform.organ_id import ORGAN_ID_MAX, is_organ_id
from vanban.platform.xml import hardened_parser, parse_xml

NAMESPACE: Final = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
XMLDSIG_NAMESPACE: Final = "http://www.w3.org/2000/09/xmldsig#"
# QCVN 102 times are Vietnam's local time, a fixed UTC+7.
VIETNAM_TIME: Final = timezone(timedelta(hours=7))

_MIB: Final = 1024 * 1024
# Mã định danh of an agency (Decision 20/2020, amended 2025), as documents.proto checks it.
_DIGITS: Final = re.compile(r"[0-9]+")
_DATE: Final = re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2})")
_TIMESTAMP: Final = re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
# Counts (priority, amounts, types): nine digits keep int() cheap and fit every real value.
_COUNT: Final = re.compile(r"[0-9]{1,9}")
# XML's whitespace, the only characters allowed between base64 characters (line breaks).
_XML_SPACE: Final = re.compile(r"[ \t\r\n]+")
# A status code is two digits; an unknown one is kept as text up to this length.
_STATUS_CODE_MAX: Final = 8


# Model --------------------------------------------------------------------------------------


class BusinessDocType(enum.IntEnum):
    """What a package does (BussinessDocType)."""

    NEW = 0
    RECALL = 1  # thu hồi
    UPDATE = 2  # cập nhật
    REPLACE = 3  # thay thế


class StatusCode(enum.StrEnum):
    """The business status codes QCVN 102 defines (DOMAIN.md); other codes are kept as text."""

    ARRIVED = "01"  # arrived, not yet handled by the clerk
    REJECTED = "02"  # rejected, with a reason
    ACCEPTED = "03"  # accepted and registered
    ASSIGNED = "04"
    IN_PROGRESS = "05"
    COMPLETED = "06"
    TAKE_BACK_REQUESTED = "13"  # the sender asks to take back or update, with a reason
    AGREED = "15"  # the receiver agrees to the take back or update
    REFUSED = "16"  # the receiver refuses it


_KNOWN_STATUS_CODES: Final = frozenset(code.value for code in StatusCode)
# One implementation sends 14 for "agrees"; it is read as 15 and never written.
_STATUS_ALIASES: Final = {"14": StatusCode.AGREED.value}


@dataclass(frozen=True, slots=True, kw_only=True)
class Organ:
    """An agency by its mã định danh; the other fields as the sender wrote them, empty when
    absent."""

    organ_id: str
    organ_name: str = ""
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Code:
    """Số and ký hiệu of a document: "7816" and "VPCP-TTĐT" for 7816/VPCP-TTĐT."""

    code_number: str
    code_notation: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseFor:
    """The document a package answers, or a status message is about."""

    organ_id: str
    document_id: str
    # Số/ký hiệu as one text, e.g. "7816/VPCP-TTĐT".
    code: str = ""
    promulgation_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerInfo:
    # Thẩm quyền ký as the sender writes it ("KT.", "TM.", a word): no code list is agreed.
    competence: str = ""
    position: str = ""
    full_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentType:
    # The sender's codes: QCVN 102 gives no list both sides share, so type_name is what counts.
    type: int
    type_name: str
    type_detail: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherInfo:
    # 0 normal, 1 urgent, 2 very urgent, 3 flash, 4 flash at a set time (as public code uses it).
    priority: int = 0
    sphere_of_promulgation: str = ""
    typer_notation: str = ""
    promulgation_amount: int = 0
    page_amount: int = 0
    appendixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffInfo:
    """Who handles the package or the status at the agency."""

    department: str = ""
    staff: str = ""
    email: str = ""
    mobile: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceHeader:
    """One agency the package went through, and when."""

    organ_id: str
    timestamp: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Replacement:
    """A document that a replacing package (BusinessDocType.REPLACE) replaces, and the agencies
    it had gone to."""

    document_id: str
    organ_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Business:
    """Bussiness (sic): what the package does to a document. BussinessDocumentInfo (which parts
    an update changes) is not modelled: an update carries the whole new header anyway."""

    doc_type: BusinessDocType = BusinessDocType.NEW
    doc_reason: str = ""
    # The DocumentId recalled or updated.
    document_id: str = ""
    staff_info: tuple[StaffInfo, ...] = ()
    # A paper copy is sent as well.
    paper: bool = False
    replacements: tuple[Replacement, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file of the package: a manifest Reference and its base64 content, joined by content
    id (kept without the `cid:` scheme)."""

    content_id: str
    name: str
    content_type: str = ""
    description: str = ""
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentPackage:
    """A document sent from one agency to others."""

    from_: Organ
    to: tuple[Organ, ...]
    # OrganId,yyyy/MM/dd,số/ký hiệu of the issuing agency: see `document_id`.
    document_id: str
    code: Code
    promulgation_place: str = ""
    promulgation_date: date
    document_type: DocumentType
    subject: str
    content: str = ""
    signer_info: SignerInfo = SignerInfo()
    due_date: date | None = None
    to_places: tuple[str, ...] = ()
    other_info: OtherInfo = OtherInfo()
    response_for: tuple[ResponseFor, ...] = ()
    # 0 none, 1 directive, 2 report as DOMAIN.md has it; some senders count from 1.
    steering_type: int = 0
    trace_headers: tuple[TraceHeader, ...] = ()
    business: Business = Business()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusMessage:
    """An agency's business status of a document it received or sent (the codes of
    `StatusCode`); not the transport's acknowledgement that a package arrived."""

    from_: Organ
    response_for: ResponseFor
    # A `StatusCode` value, or the sender's text when it is no code QCVN 102 defines.
    status_code: str
    description: str = ""
    timestamp: datetime
    staff_info: StaffInfo = StaffInfo()
    # The code as the sender wrote it when that differs from `status_code` (a "14" read as
    # "15"); None otherwise. Never written: a message is built with its `status_code`.
    raw_status_code: str | None = None

    @property
    def known(self) -> bool:
        return self.status_code in _KNOWN_STATUS_CODES


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What `parse` accepts. The lengths mirror RegisterIncomingDocumentRequest in
    documents.proto where it has them, so a package the documents service would refuse is
    refused here first."""

    # The signing service signs and verifies at most 7 MiB.
    max_package_bytes: int = 7 * _MIB
    max_attachments: int = 20
    # Decoded, each: base64 in a 7 MiB package leaves about 5.2 MiB for all of them.
    max_attachment_bytes: int = 5 * _MIB
    # The recipients one package names (To, ToPlaces/Place): a ministry's circular goes to every
    # province and ministry, a province's to all of its departments and districts.
    max_recipients: int = 2000
    # Any other repeated element: ResponseFor, TraceHeader, Appendix, ...
    max_items: int = 200
    max_subject: int = 500
    max_organ_name: int = 200
    max_code_number: int = 11
    max_code_notation: int = 30
    # DocumentId (documents.proto: identifier).
    max_identifier: int = 100
    # Signer's position and name, document type name (documents.proto: Signer, document_type).
    max_name: int = 100
    # Content (the summary), reasons and status descriptions: free text, bounded so that one
    # field cannot take a whole package.
    max_content: int = 10_000
    # Every other text: addresses, places, file names, content types, descriptions, staff.
    max_text: int = 500

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive")


class EdxmlError(InvalidArgumentError):
    """A package or status message refused. `reason` is EDXML_MALFORMED, EDXML_NOT_EDXML,
    EDXML_MISSING_FIELD, EDXML_INVALID_FIELD, EDXML_TOO_LARGE, EDXML_TOO_MANY_ATTACHMENTS,
    EDXML_ATTACHMENT_MISMATCH, or XML_DOCTYPE_FORBIDDEN from the hardened parser;
    `metadata["field"]` names the element where there is one."""

    reason = "EDXML_MALFORMED"


def document_id(organ_id: str, day: date, code_number: str, code_notation: str) -> str:
    """The DocumentId of a document: `OrganId,yyyy/MM/dd,số/ký hiệu` of the issuing agency,
    e.g. `000.00.00.G22,2015/09/30,7816/VPCP-TTĐT`."""
    if not is_organ_id(organ_id):
        raise ValueError(f"{organ_id!r} is not an agency identifier")
    if not _DIGITS.fullmatch(code_number) or not code_notation:
        raise ValueError(f"{code_number!r}/{code_notation!r} is not a số/ký hiệu")
    return f"{organ_id},{_format_date(day)},{code_number}/{code_notation}"


@functools.cache
def schema() -> etree.XMLSchema:
    """The XML Schema of what `build_package` and `build_status` write (edxml.xsd), loaded
    once. Not for received packages: senders order and extend elements differently."""
    source = resources.files("vanban.exchange.domain").joinpath("edxml.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(source, parser=hardened_parser()))


# Building -----------------------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _format_date(day: date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def _format_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time could be UTC or local: which one is not guessed.
        raise ValueError(f"{moment.isoformat()} has no time zone")
    local = moment.astimezone(VIETNAM_TIME)
    return f"{_format_date(local)} {local.hour:02d}:{local.minute:02d}:{local.second:02d}"


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, _q(name))
    if text is not None:
        child.text = text
    return child


def _add_text(parent: etree._Element, name: str, text: str) -> None:
    """An optional text element, left out when empty (as `parse` reads an absent one)."""
    if text:
        _add(parent, name, text)


def _skeleton() -> tuple[etree._Element, etree._Element, etree._Element]:
    """Root, envelope and header. The root's default namespace and the envelope's `edXML:`
    prefix name the same URI: it is how public implementations write it, and VPCP's receiver
    is reported to expect the prefixed form."""
    root = etree.Element(_q("edXML"), nsmap={None: NAMESPACE})
    envelope = etree.SubElement(root, _q("edXMLEnvelope"), nsmap={"edXML": NAMESPACE})
    return root, envelope, _add(envelope, "edXMLHeader")


def _serialize(root: etree._Element) -> bytes:
    body = cast(bytes, etree.tostring(root, encoding="UTF-8"))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _add_organ(parent: etree._Element, name: str, organ: Organ) -> None:
    element = _add(parent, name)
    _add(element, "OrganId", organ.organ_id)
    _add_text(element, "OrganName", organ.organ_name)
    _add_text(element, "OrganAdd", organ.organ_add)
    _add_text(element, "Email", organ.email)
    _add_text(element, "Telephone", organ.telephone)
    _add_text(element, "Fax", organ.fax)
    _add_text(element, "Website", organ.website)


def _add_response_for(parent: etree._Element, response: ResponseFor) -> None:
    element = _add(parent, "ResponseFor")
    _add(element, "OrganId", response.organ_id)
    _add_text(element, "Code", response.code)
    if response.promulgation_date is not None:
        _add(element, "PromulgationDate", _format_date(response.promulgation_date))
    _add(element, "DocumentId", response.document_id)


def _add_staff_info(parent: etree._Element, staff: StaffInfo) -> None:
    if staff == StaffInfo():
        return
    element = _add(parent, "StaffInfo")
    _add_text(element, "Department", staff.department)
    _add_text(element, "Staff", staff.staff)
    _add_text(element, "Mobile", staff.mobile)
    _add_text(element, "Email", staff.email)


def _add_signer_info(parent: etree._Element, signer: SignerInfo) -> None:
    if signer == SignerInfo():
        return
    element = _add(parent, "SignerInfo")
    _add_text(element, "Competence", signer.competence)
    _add_text(element, "Position", signer.position)
    _add_text(element, "FullName", signer.full_name)


def _add_other_info(parent: etree._Element, other: OtherInfo) -> None:
    element = _add(parent, "OtherInfo")
    _add(element, "Priority", str(other.priority))
    _add_text(element, "SphereOfPromulgation", other.sphere_of_promulgation)
    _add_text(element, "TyperNotation", other.typer_notation)
    _add(element, "PromulgationAmount", str(other.promulgation_amount))
    _add(element, "PageAmount", str(other.page_amount))
    if other.appendixes:
        appendixes = _add(element, "Appendixes")
        for appendix in other.appendixes:
            _add(appendixes, "Appendix", appendix)


def _add_message_header(header: etree._Element, pkg: DocumentPackage) -> None:
    element = _add(header, "MessageHeader")
    _add_organ(element, "From", pkg.from_)
    for organ in pkg.to:
        _add_organ(element, "To", organ)
    code = _add(element, "Code")
    _add(code, "CodeNumber", pkg.code.code_number)
    _add(code, "CodeNotation", pkg.code.code_notation)
    promulgation = _add(element, "PromulgationInfo")
    _add_text(promulgation, "Place", pkg.promulgation_place)
    _add(promulgation, "PromulgationDate", _format_date(pkg.promulgation_date))
    document_type = _add(element, "DocumentType")
    _add(document_type, "Type", str(pkg.document_type.type))
    _add(document_type, "TypeDetail", str(pkg.document_type.type_detail))
    _add(document_type, "TypeName", pkg.document_type.type_name)
    _add(element, "Subject", pkg.subject)
    _add_text(element, "Content", pkg.content)
    _add_signer_info(element, pkg.signer_info)
    if pkg.due_date is not None:
        _add(element, "DueDate", _format_date(pkg.due_date))
    if pkg.to_places:
        places = _add(element, "ToPlaces")
        for place in pkg.to_places:
            _add(places, "Place", place)
    _add_other_info(element, pkg.other_info)
    for response in pkg.response_for:
        _add_response_for(element, response)
    _add(element, "SteeringType", str(pkg.steering_type))
    _add(element, "DocumentId", pkg.document_id)


def _add_business(parent: etree._Element, business: Business) -> None:
    element = _add(parent, "Bussiness")
    _add(element, "BussinessDocType", str(int(business.doc_type)))
    _add_text(element, "BussinessDocReason", business.doc_reason)
    _add_text(element, "DocumentId", business.document_id)
    for staff in business.staff_info:
        _add_staff_info(element, staff)
    _add(element, "Paper", "1" if business.paper else "0")
    if business.replacements:
        replacements = _add(element, "ReplacementInfoList")
        for replacement in business.replacements:
            info = _add(replacements, "ReplacementInfo")
            _add(info, "DocumentId", replacement.document_id)
            organs = _add(info, "OrganIdList")
            for organ_id in replacement.organ_ids:
                _add(organs, "OrganId", organ_id)


def _add_trace_header_list(header: etree._Element, pkg: DocumentPackage) -> None:
    element = _add(header, "TraceHeaderList")
    for trace in pkg.trace_headers:
        trace_header = _add(element, "TraceHeader")
        _add(trace_header, "OrganId", trace.organ_id)
        _add(trace_header, "Timestamp", _format_timestamp(trace.timestamp))
    _add_business(element, pkg.business)


def _check_content_ids(attachments: tuple[Attachment, ...]) -> None:
    ids = [attachment.content_id for attachment in attachments]
    if any(not content_id or content_id.lower().startswith("cid:") for content_id in ids):
        raise ValueError("an attachment's content id is empty or starts with cid:")
    if len(set(ids)) != len(ids):
        raise ValueError("two attachments have the same content id")


def _add_attachments(
    root: etree._Element, envelope: etree._Element, attachments: tuple[Attachment, ...]
) -> None:
    """The manifest in the body, and the contents outside the envelope. Each Attachment also
    repeats name, type and description: public senders write them there and some receivers
    read them there."""
    manifest = _add(_add(envelope, "edXMLBody"), "edXMLManifest")
    for attachment in attachments:
        reference = _add(manifest, "Reference")
        _add(reference, "ContentId", f"cid:{attachment.content_id}")
        _add_attachment_info(reference, attachment)
    if not attachments:
        return
    encoded = _add(root, "AttachmentEncoded")
    for attachment in attachments:
        element = _add(encoded, "Attachment")
        _add(element, "ContentId", attachment.content_id)
        _add_attachment_info(element, attachment)
        _add(element, "ContentTransferEncoded", base64.b64encode(attachment.data).decode("ascii"))


def _add_attachment_info(parent: etree._Element, attachment: Attachment) -> None:
    _add(parent, "AttachmentName", attachment.name)
    _add_text(parent, "ContentType", attachment.content_type)
    _add_text(parent, "Description", attachment.description)


def build_package(pkg: DocumentPackage) -> bytes:
    """The package as UTF-8 edXML, unsigned. Optional text left empty in the model is left out;
    timestamps must be aware (ValueError otherwise) and are written in Vietnam time, to the
    second. Limits are `parse`'s business: check the result with `schema()` or `parse`."""
    _check_content_ids(pkg.attachments)
    root, envelope, header = _skeleton()
    _add_message_header(header, pkg)
    _add_trace_header_list(header, pkg)
    _add_attachments(root, envelope, pkg.attachments)
    return _serialize(root)


def build_status(msg: StatusMessage) -> bytes:
    """The status message as UTF-8 edXML, unsigned: the header alone, no body. Only the codes
    QCVN 102 defines are written (ValueError otherwise), so "15" for agreeing, never "14"."""
    if not msg.known:
        raise ValueError(f"{msg.status_code!r} is not a QCVN 102 status code")
    root, _, header = _skeleton()
    element = _add(header, "MessageHeader")
    _add_response_for(element, msg.response_for)
    _add_organ(element, "From", msg.from_)
    _add(element, "StatusCode", str(msg.status_code))
    _add_text(element, "Description", msg.description)
    _add(element, "Timestamp", _format_timestamp(msg.timestamp))
    _add_staff_info(element, msg.staff_info)
    return _serialize(root)


# Parsing ------------------------------------------------------------------------------------


def _missing(path: str) -> EdxmlError:
    return EdxmlError(f"{path} is missing", reason="EDXML_MISSING_FIELD", metadata={"field": path})


def _invalid(path: str, why: str) -> EdxmlError:
    return EdxmlError(f"{path} {why}", reason="EDXML_INVALID_FIELD", metadata={"field": path})


@dataclass(frozen=True, slots=True)
class _Node:
    """An element being read, with its path for error messages."""

    element: etree._Element
    path: str
    limits: Limits

    def _at(self, name: str) -> list[etree._Element]:
        return list(self.element.iterchildren(_q(name)))

    def many(self, name: str, *, at_most: int | None = None) -> list[_Node]:
        elements = self._at(name)
        maximum = self.limits.max_items if at_most is None else at_most
        if len(elements) > maximum:
            raise _invalid(
                f"{self.path}/{name}", f"appears {len(elements)} times, at most {maximum}"
            )
        return [
            _Node(element, f"{self.path}/{name}[{index}]", self.limits)
            for index, element in enumerate(elements, start=1)
        ]

    def child(self, name: str) -> _Node | None:
        elements = self._at(name)
        if len(elements) > 1:
            raise _invalid(f"{self.path}/{name}", f"appears {len(elements)} times, once expected")
        return _Node(elements[0], f"{self.path}/{name}", self.limits) if elements else None

    def required(self, name: str) -> _Node:
        node = self.child(name)
        if node is None:
            raise _missing(f"{self.path}/{name}")
        return node

    def value(self) -> str:
        """The element's text, trimmed; an element inside it is refused rather than skipped."""
        if any(isinstance(child.tag, str) for child in self.element):
            raise _invalid(self.path, "holds elements where text is expected")
        return "".join(self.element.itertext()).strip()

    def text(self, name: str, *, max_length: int, required: bool = False) -> str:
        """The text of child `name`; empty when absent or empty, which `required` refuses."""
        node = self.child(name)
        value = "" if node is None else node.value()
        path = f"{self.path}/{name}"
        if required and not value:
            raise _missing(path)
        if len(value) > max_length:
            raise _invalid(path, f"has {len(value)} characters, at most {max_length}")
        return value


# The years a date or timestamp of a package may fall in: wide enough for any document, narrow
# enough that every one converts to UTC and to a protobuf Timestamp.
YEARS: Final = (1900, 9998)


def _parse_date(value: str, path: str) -> date:
    match = _DATE.fullmatch(value)
    if match is not None:
        with contextlib.suppress(ValueError):  # no such day
            day = date(*(int(part) for part in match.groups()))
            if YEARS[0] <= day.year <= YEARS[1]:
                return day
    raise _invalid(path, f"is {value!r}, not a date yyyy/MM/dd of {YEARS[0]} to {YEARS[1]}")


def _parse_timestamp(value: str, path: str) -> datetime:
    match = _TIMESTAMP.fullmatch(value)
    if match is not None:
        with contextlib.suppress(ValueError):  # no such day or time
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            if YEARS[0] <= year <= YEARS[1]:
                return datetime(year, month, day, hour, minute, second, tzinfo=VIETNAM_TIME)
    raise _invalid(
        path, f"is {value!r}, not a timestamp yyyy/MM/dd HH:mm:ss of {YEARS[0]} to {YEARS[1]}"
    )


def _organ_id(node: _Node, name: str) -> str:
    value = node.text(name, max_length=ORGAN_ID_MAX, required=True)
    if not is_organ_id(value):
        raise _invalid(f"{node.path}/{name}", f"is {value!r}, not an agency identifier")
    return value


def _required_date(node: _Node, name: str) -> date:
    return _parse_date(node.text(name, max_length=10, required=True), f"{node.path}/{name}")


def _optional_date(node: _Node, name: str) -> date | None:
    value = node.text(name, max_length=10)
    return _parse_date(value, f"{node.path}/{name}") if value else None


def _timestamp(node: _Node, name: str) -> datetime:
    return _parse_timestamp(node.text(name, max_length=19, required=True), f"{node.path}/{name}")


def _count(node: _Node, name: str, *, required: bool = False) -> int:
    """A non-negative integer; absent or empty reads as 0 unless `required`."""
    value = node.text(name, max_length=9, required=required)
    if not value:
        return 0
    if not _COUNT.fullmatch(value):
        raise _invalid(f"{node.path}/{name}", f"is {value!r}, not a whole number")
    return int(value)


def _not_a_document_id(path: str, value: str) -> EdxmlError:
    return _invalid(path, f"is {value!r}, not OrganId,yyyy/MM/dd,số/ký hiệu")


def _document_id_issuer(value: str, path: str) -> str:
    """The agency a DocumentId names; any other shape than `OrganId,yyyy/MM/dd,số/ký hiệu`
    is refused."""
    parts = value.split(",", 2)
    if len(parts) != 3 or not is_organ_id(parts[0]):
        raise _not_a_document_id(path, value)
    issuer, day, code = parts
    _parse_date(day, path)
    number, slash, notation = code.partition("/")
    if not _DIGITS.fullmatch(number) or not slash or not notation:
        raise _not_a_document_id(path, value)
    return issuer


def _document_id(node: _Node, name: str, *, required: bool = True) -> str:
    value = node.text(name, max_length=node.limits.max_identifier, required=required)
    if value:
        _document_id_issuer(value, f"{node.path}/{name}")
    return value


def _organ(node: _Node) -> Organ:
    limits = node.limits
    return Organ(
        organ_id=_organ_id(node, "OrganId"),
        organ_name=node.text("OrganName", max_length=limits.max_organ_name),
        organ_add=node.text("OrganAdd", max_length=limits.max_text),
        email=node.text("Email", max_length=limits.max_text),
        telephone=node.text("Telephone", max_length=limits.max_text),
        fax=node.text("Fax", max_length=limits.max_text),
        website=node.text("Website", max_length=limits.max_text),
    )


def _code(node: _Node) -> Code:
    number = node.text("CodeNumber", max_length=node.limits.max_code_number, required=True)
    if not _DIGITS.fullmatch(number):
        raise _invalid(f"{node.path}/CodeNumber", f"is {number!r}, not a số in digits")
    return Code(
        code_number=number,
        code_notation=node.text(
            "CodeNotation", max_length=node.limits.max_code_notation, required=True
        ),
    )


def _response_for(node: _Node) -> ResponseFor:
    limits = node.limits
    return ResponseFor(
        organ_id=_organ_id(node, "OrganId"),
        document_id=_document_id(node, "DocumentId"),
        code=node.text("Code", max_length=limits.max_code_number + 1 + limits.max_code_notation),
        promulgation_date=_optional_date(node, "PromulgationDate"),
    )


def _staff_info(node: _Node | None) -> StaffInfo:
    if node is None:
        return StaffInfo()
    limits = node.limits
    return StaffInfo(
        department=node.text("Department", max_length=limits.max_text),
        staff=node.text("Staff", max_length=limits.max_text),
        email=node.text("Email", max_length=limits.max_text),
        mobile=node.text("Mobile", max_length=limits.max_text),
    )


def _document_type(node: _Node) -> DocumentType:
    return DocumentType(
        type=_count(node, "Type", required=True),
        type_name=node.text("TypeName", max_length=node.limits.max_name, required=True),
        type_detail=_count(node, "TypeDetail"),
    )


def _signer_info(node: _Node | None) -> SignerInfo:
    if node is None:
        return SignerInfo()
    limits = node.limits
    return SignerInfo(
        competence=node.text("Competence", max_length=limits.max_name),
        position=node.text("Position", max_length=limits.max_name),
        full_name=node.text("FullName", max_length=limits.max_name),
    )


def _texts(node: _Node | None, name: str, *, at_most: int | None = None) -> tuple[str, ...]:
    """The non-empty texts of the repeated child `name` (senders write empty ones)."""
    if node is None:
        return ()
    texts = []
    for item in node.many(name, at_most=at_most):
        value = item.value()
        if len(value) > node.limits.max_text:
            raise _invalid(
                item.path, f"has {len(value)} characters, at most {node.limits.max_text}"
            )
        if value:
            texts.append(value)
    return tuple(texts)


def _other_info(node: _Node | None) -> OtherInfo:
    if node is None:
        return OtherInfo()
    limits = node.limits
    return OtherInfo(
        priority=_count(node, "Priority"),
        sphere_of_promulgation=node.text("SphereOfPromulgation", max_length=limits.max_text),
        typer_notation=node.text("TyperNotation", max_length=limits.max_text),
        promulgation_amount=_count(node, "PromulgationAmount"),
        page_amount=_count(node, "PageAmount"),
        appendixes=_texts(node.child("Appendixes"), "Appendix"),
    )


def _business_doc_type(node: _Node) -> BusinessDocType:
    value = _count(node, "BussinessDocType", required=True)
    try:
        return BusinessDocType(value)
    except ValueError:
        raise _invalid(f"{node.path}/BussinessDocType", f"is {value}, not 0, 1, 2 or 3") from None


def _paper(node: _Node) -> bool:
    value = node.text("Paper", max_length=1)
    if value not in ("", "0", "1"):
        raise _invalid(f"{node.path}/Paper", f"is {value!r}, not 0 or 1")
    return value == "1"


def _replacement(node: _Node) -> Replacement:
    organs = node.child("OrganIdList")
    organ_ids = () if organs is None else tuple(_organ_ids(organs))
    return Replacement(document_id=_document_id(node, "DocumentId"), organ_ids=organ_ids)


def _organ_ids(node: _Node) -> list[str]:
    values = [item.value() for item in node.many("OrganId")]
    for index, value in enumerate(values, start=1):
        if not is_organ_id(value):
            raise _invalid(f"{node.path}/OrganId[{index}]", f"is {value!r}, not an identifier")
    return values


def _business(node: _Node | None) -> Business:
    if node is None:
        return Business()
    replacements = node.child("ReplacementInfoList")
    return Business(
        doc_type=_business_doc_type(node),
        doc_reason=node.text("BussinessDocReason", max_length=node.limits.max_content),
        document_id=_document_id(node, "DocumentId", required=False),
        staff_info=tuple(_staff_info(item) for item in node.many("StaffInfo")),
        paper=_paper(node),
        replacements=()
        if replacements is None
        else tuple(_replacement(item) for item in replacements.many("ReplacementInfo")),
    )


def _trace_header(node: _Node) -> TraceHeader:
    return TraceHeader(organ_id=_organ_id(node, "OrganId"), timestamp=_timestamp(node, "Timestamp"))


def _content_id(node: _Node) -> str:
    """The content id without the `cid:` scheme: manifests write `cid:<id>`, and some senders
    write the bare `<id>` on the attachment itself."""
    value = node.text("ContentId", max_length=node.limits.max_text, required=True)
    bare = value[4:] if value[:4].lower() == "cid:" else value
    if not bare:
        raise _invalid(f"{node.path}/ContentId", "is an empty cid:")
    return bare


def _mismatch(message: str) -> EdxmlError:
    return EdxmlError(message, reason="EDXML_ATTACHMENT_MISMATCH")


def _attachment_nodes(node: _Node | None, name: str) -> list[_Node]:
    if node is None:
        return []
    count = sum(1 for _ in node.element.iterchildren(_q(name)))
    maximum = node.limits.max_attachments
    if count > maximum:
        raise EdxmlError(
            f"{node.path} has {count} attachments, at most {maximum}",
            reason="EDXML_TOO_MANY_ATTACHMENTS",
            metadata={"max_attachments": str(maximum)},
        )
    return node.many(name, at_most=maximum)


def _too_large(path: str, maximum: int) -> EdxmlError:
    return EdxmlError(
        f"{path} holds more than {maximum} bytes",
        reason="EDXML_TOO_LARGE",
        metadata={"field": path, "max_bytes": str(maximum)},
    )


def _decode(node: _Node) -> bytes:
    """Strict base64: XML whitespace (line breaks) may sit between characters, nothing else
    may. The size is checked before decoding as well as after."""
    content = node.required("ContentTransferEncoded")
    encoded = _XML_SPACE.sub("", content.value())
    maximum = node.limits.max_attachment_bytes
    if len(encoded) > 4 * ((maximum + 2) // 3):
        raise _too_large(content.path, maximum)
    try:
        data = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise _invalid(content.path, "is not base64") from None
    if len(data) > maximum:
        raise _too_large(content.path, maximum)
    return data


def _described(reference: _Node, content: _Node, name: str) -> str:
    """The manifest's text of `name`, or the attachment's where the manifest has none."""
    limit = reference.limits.max_text
    return reference.text(name, max_length=limit) or content.text(name, max_length=limit)


def _attachment(reference: _Node, content: _Node, content_id: str) -> Attachment:
    name = _described(reference, content, "AttachmentName")
    if not name:
        raise _missing(f"{reference.path}/AttachmentName")
    return Attachment(
        content_id=content_id,
        name=name,
        content_type=_described(reference, content, "ContentType"),
        description=_described(reference, content, "Description"),
        data=_decode(content),
    )


def _attachments(manifest: _Node | None, encoded: _Node | None) -> tuple[Attachment, ...]:
    """The manifest's references joined with the encoded attachments, one to one."""
    references = _attachment_nodes(manifest, "Reference")
    contents: dict[str, _Node] = {}
    for content in _attachment_nodes(encoded, "Attachment"):
        content_id = _content_id(content)
        if content_id in contents:
            raise _mismatch(f"two attachments have the content id {content_id!r}")
        contents[content_id] = content
    attachments = []
    for reference in references:
        content_id = _content_id(reference)
        found = contents.pop(content_id, None)
        if found is None:
            raise _mismatch(f"{reference.path} names {content_id!r}, which no attachment has")
        attachments.append(_attachment(reference, found, content_id))
    if contents:
        raise _mismatch(f"attachments {sorted(contents)} are not in the manifest")
    return tuple(attachments)


def _package(
    header: _Node, message: _Node, envelope: _Node, encoded: _Node | None
) -> DocumentPackage:
    limits = message.limits
    from_ = _organ(message.required("From"))
    to = tuple(_organ(item) for item in message.many("To", at_most=message.limits.max_recipients))
    if not to:
        raise _missing(f"{message.path}/To")
    identifier = _document_id(message, "DocumentId")
    issuer = identifier.split(",", 1)[0]
    if issuer != from_.organ_id:
        raise _invalid(
            f"{message.path}/DocumentId",
            f"names the agency {issuer}, not the sender {from_.organ_id}",
        )
    promulgation = message.required("PromulgationInfo")
    trace = header.child("TraceHeaderList")
    body = envelope.child("edXMLBody")
    return DocumentPackage(
        from_=from_,
        to=to,
        document_id=identifier,
        code=_code(message.required("Code")),
        promulgation_place=promulgation.text("Place", max_length=limits.max_text),
        promulgation_date=_required_date(promulgation, "PromulgationDate"),
        document_type=_document_type(message.required("DocumentType")),
        subject=message.text("Subject", max_length=limits.max_subject, required=True),
        content=message.text("Content", max_length=limits.max_content),
        signer_info=_signer_info(message.child("SignerInfo")),
        due_date=_optional_date(message, "DueDate"),
        to_places=_texts(message.child("ToPlaces"), "Place", at_most=message.limits.max_recipients),
        other_info=_other_info(message.child("OtherInfo")),
        response_for=tuple(_response_for(item) for item in message.many("ResponseFor")),
        steering_type=_count(message, "SteeringType"),
        trace_headers=()
        if trace is None
        else tuple(_trace_header(item) for item in trace.many("TraceHeader")),
        business=_business(None if trace is None else trace.child("Bussiness")),
        attachments=_attachments(None if body is None else body.child("edXMLManifest"), encoded),
    )


def _status(message: _Node) -> StatusMessage:
    raw = message.text("StatusCode", max_length=_STATUS_CODE_MAX, required=True)
    normalised = _STATUS_ALIASES.get(raw, raw)
    code = StatusCode(normalised) if normalised in _KNOWN_STATUS_CODES else normalised
    return StatusMessage(
        from_=_organ(message.required("From")),
        response_for=_response_for(message.required("ResponseFor")),
        status_code=code,
        description=message.text("Description", max_length=message.limits.max_content),
        timestamp=_timestamp(message, "Timestamp"),
        staff_info=_staff_info(message.child("StaffInfo")),
        raw_status_code=raw if raw != code else None,
    )


# How the hardened parser's refusals read as edXML ones; XML_DOCTYPE_FORBIDDEN passes through.
_XML_REASONS: Final = {"XML_TOO_LARGE": "EDXML_TOO_LARGE", "XML_MALFORMED": "EDXML_MALFORMED"}


def _root(data: bytes, limits: Limits) -> etree._Element:
    try:
        return parse_xml(data, max_bytes=limits.max_package_bytes)
    except InvalidArgumentError as exc:
        raise EdxmlError(
            exc.message, reason=_XML_REASONS.get(exc.reason, exc.reason), metadata=exc.metadata
        ) from None


def _root_parts(root: etree._Element, limits: Limits) -> tuple[_Node, _Node | None]:
    """The envelope and the encoded attachments. Nothing else may sit under the root but a
    trailing ds:Signature, which the signing service checks."""
    if root.tag != _q("edXML"):
        raise EdxmlError(
            f"the root element is {root.tag}, not edXML of QCVN 102:2016",
            reason="EDXML_NOT_EDXML",
        )
    children = [child for child in root if isinstance(child.tag, str)]
    if children and children[-1].tag == f"{{{XMLDSIG_NAMESPACE}}}Signature":
        children.pop()
    envelope: etree._Element | None = None
    encoded: etree._Element | None = None
    for child in children:
        if child.tag == _q("edXMLEnvelope") and envelope is None:
            envelope = child
        elif child.tag == _q("AttachmentEncoded") and encoded is None:
            encoded = child
        else:
            raise EdxmlError(
                f"edXML holds an unexpected {child.tag} element", reason="EDXML_MALFORMED"
            )
    if envelope is None:
        raise EdxmlError("edXML holds no edXMLEnvelope", reason="EDXML_NOT_EDXML")
    return (
        _Node(envelope, "edXML/edXMLEnvelope", limits),
        None if encoded is None else _Node(encoded, "edXML/AttachmentEncoded", limits),
    )


def parse(data: bytes, *, limits: Limits) -> DocumentPackage | StatusMessage:
    """A received package read into the model: a status message when its MessageHeader has a
    StatusCode, a document package otherwise. Raises `EdxmlError`. The signature is not
    checked here (the signing service does it) and a status message's body, if any, is not
    read."""
    envelope, encoded = _root_parts(_root(data, limits), limits)
    header = envelope.required("edXMLHeader")
    message = header.required("MessageHeader")
    if message.child("StatusCode") is not None:
        return _status(message)
    return _package(header, message, envelope, encoded)
