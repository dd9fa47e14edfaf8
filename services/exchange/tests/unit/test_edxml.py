"""edXML (QCVN 102:2016): packages and status messages built, read back, checked against the
schema, read as other implementations write them, and hostile input refused for its reason."""

import base64
import dataclasses
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from vanban.exchange.domain.edxml import (
    NAMESPACE,
    VIETNAM_TIME,
    Attachment,
    Business,
    BusinessDocType,
    Code,
    DocumentPackage,
    DocumentType,
    EdxmlError,
    Limits,
    Organ,
    OtherInfo,
    Replacement,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusMessage,
    TraceHeader,
    build_package,
    build_status,
    document_id,
    parse,
    schema,
)
from vanban.platform.errors import InvalidArgumentError

LIMITS = Limits()
VPCP = "000.00.00.G22"
NGHE_AN = "000.00.00.H41"
DS = "http://www.w3.org/2000/09/xmldsig#"
# Every byte value, so that the base64 round trip cannot pass by accident.
PDF = b"%PDF-1.7\n" + bytes(range(256)) + "Quyết định số 12/QĐ-UBND\n%%EOF".encode()
DOCX = b"PK\x03\x04" + "Phụ lục: danh sách đơn vị".encode() * 40


# A change made to a built package's tree, given its root element.
Change = Callable[[etree._Element], None]


def package(**changes: Any) -> DocumentPackage:
    """A document from the Government Office to Nghệ An, every field filled in."""
    pkg = DocumentPackage(
        from_=Organ(
            organ_id=VPCP,
            organ_name="Văn phòng Chính phủ",
            organ_add="Số 1 Hoàng Hoa Thám, Ba Đình, Hà Nội",
            email="vpcp@chinhphu.vn",
            telephone="080 43162",
            fax="080 44130",
            website="https://vpcp.chinhphu.vn",
        ),
        to=(
            Organ(organ_id=NGHE_AN, organ_name="Ủy ban nhân dân tỉnh Nghệ An"),
            Organ(organ_id="000.00.00.H29", organ_name="Ủy ban nhân dân tỉnh Hà Tĩnh"),
        ),
        document_id=document_id(VPCP, date(2015, 9, 30), "7816", "VPCP-TTĐT"),
        code=Code(code_number="7816", code_notation="VPCP-TTĐT"),
        promulgation_place="Hà Nội",
        promulgation_date=date(2015, 9, 30),
        document_type=DocumentType(type=18, type_name="Công văn", type_detail=2),
        subject="Về việc triển khai kế hoạch chuyển đổi số năm 2025 & <báo cáo> kết quả",
        content="Đề nghị các địa phương báo cáo trước ngày 15 tháng 10.",
        signer_info=SignerInfo(
            competence="KT.", position="Phó Chủ nhiệm", full_name="Nguyễn Văn A"
        ),
        due_date=date(2015, 10, 15),
        to_places=("Như trên", "Lưu: VT, TTĐT"),
        other_info=OtherInfo(
            priority=1,
            sphere_of_promulgation="Lưu hành nội bộ",
            typer_notation="TTĐT",
            promulgation_amount=3,
            page_amount=2,
            appendixes=("Phụ lục I", "Phụ lục II"),
        ),
        response_for=(
            ResponseFor(
                organ_id=NGHE_AN,
                document_id=f"{NGHE_AN},2015/09/01,120/UBND-VX",
                code="120/UBND-VX",
                promulgation_date=date(2015, 9, 1),
            ),
        ),
        steering_type=1,
        trace_headers=(
            TraceHeader(organ_id=VPCP, timestamp=datetime(2015, 9, 30, 8, 15, 0, tzinfo=UTC)),
            TraceHeader(
                organ_id="000.00.00.G99",
                timestamp=datetime(2015, 9, 30, 15, 16, 1, tzinfo=VIETNAM_TIME),
            ),
        ),
        business=Business(
            doc_type=BusinessDocType.REPLACE,
            doc_reason="Thay thế văn bản ban hành nhầm",
            document_id=f"{VPCP},2015/09/29,7800/VPCP-TTĐT",
            staff_info=(
                StaffInfo(
                    department="Văn thư", staff="Trần Thị B", email="b@vpcp.vn", mobile="0912"
                ),
            ),
            paper=True,
            replacements=(
                Replacement(
                    document_id=f"{VPCP},2015/09/29,7800/VPCP-TTĐT",
                    organ_ids=(NGHE_AN, "000.00.00.H29"),
                ),
            ),
        ),
        attachments=(
            Attachment(
                content_id="6f1c2a9e-1b7a-4d0e-9a55-3c1f0b2d8e11",
                name="7816-VPCP-TTĐT.pdf",
                content_type="application/pdf",
                description="Văn bản chính",
                data=PDF,
            ),
            Attachment(
                content_id="0b7d4e2c-5a61-4f3b-8c9d-7e2a1f4b6c33",
                name="Phụ lục.docx",
                content_type="application/vnd.openxmlformats-officedocument.wordprocessingml."
                "document",
                data=DOCX,
            ),
        ),
    )
    return dataclasses.replace(pkg, **changes)


def status(code: str = StatusCode.ACCEPTED, **changes: Any) -> StatusMessage:
    msg = StatusMessage(
        from_=Organ(organ_id=NGHE_AN, organ_name="Ủy ban nhân dân tỉnh Nghệ An"),
        response_for=ResponseFor(
            organ_id=VPCP,
            document_id=f"{VPCP},2015/09/30,7816/VPCP-TTĐT",
            code="7816/VPCP-TTĐT",
            promulgation_date=date(2015, 9, 30),
        ),
        status_code=code,
        description="Đã tiếp nhận và vào sổ đến số 345",
        timestamp=datetime(2015, 10, 1, 9, 30, 5, tzinfo=VIETNAM_TIME),
        staff_info=StaffInfo(department="Văn thư", staff="Lê Văn C", mobile="0988"),
    )
    return dataclasses.replace(msg, **changes)


def refused(data: bytes, limits: Limits = LIMITS) -> EdxmlError:
    with pytest.raises(EdxmlError) as caught:
        parse(data, limits=limits)
    return caught.value


def read_package(data: bytes, limits: Limits = LIMITS) -> DocumentPackage:
    pkg = parse(data, limits=limits)
    assert isinstance(pkg, DocumentPackage)
    return pkg


def edit(data: bytes, change: Change) -> bytes:
    """`data` parsed, changed by `change`, serialized again."""
    root = etree.fromstring(data)
    change(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def find(root: etree._Element, path: str) -> etree._Element:
    """The element at `path`, local names separated by slashes, from the root."""
    element = root.find("/".join(q(name) for name in path.split("/")))
    assert element is not None, path
    return element


def set_text(path: str, text: str) -> Change:
    def change(root: etree._Element) -> None:
        find(root, path).text = text

    return change


def remove(path: str) -> Change:
    def change(root: etree._Element) -> None:
        element = find(root, path)
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return change


HEADER = "edXMLEnvelope/edXMLHeader/MessageHeader"
TRACE = "edXMLEnvelope/edXMLHeader/TraceHeaderList"


def signed(data: bytes) -> bytes:
    """`data` with an enveloped ds:Signature appended as the signing service does (shape only:
    the signature itself is the signing service's to check)."""

    def change(root: etree._Element) -> None:
        signature = etree.SubElement(root, f"{{{DS}}}Signature", nsmap={"ds": DS})
        info = etree.SubElement(signature, f"{{{DS}}}SignedInfo")
        etree.SubElement(info, f"{{{DS}}}Reference", URI="")
        etree.SubElement(signature, f"{{{DS}}}SignatureValue").text = "AAAA"

    return edit(data, change)


# Round trips and the schema -----------------------------------------------------------------


def test_a_package_reads_back_as_it_was_built() -> None:
    pkg = package()

    assert parse(build_package(pkg), limits=LIMITS) == pkg


def test_a_package_without_optional_parts_reads_back_as_it_was_built() -> None:
    pkg = DocumentPackage(
        from_=Organ(organ_id=VPCP),
        to=(Organ(organ_id=NGHE_AN),),
        document_id=f"{VPCP},2015/09/30,7816/VPCP-TTĐT",
        code=Code(code_number="7816", code_notation="VPCP-TTĐT"),
        promulgation_date=date(2015, 9, 30),
        document_type=DocumentType(type=18, type_name="Công văn"),
        subject="Về việc chuyển đổi số",
    )
    data = build_package(pkg)

    assert parse(data, limits=LIMITS) == pkg
    schema().assertValid(etree.fromstring(data))
    assert b"AttachmentEncoded" not in data and b"SignerInfo" not in data


@pytest.mark.parametrize("code", list(StatusCode))
def test_a_status_message_reads_back_as_it_was_built(code: StatusCode) -> None:
    msg = status(code)
    data = build_status(msg)

    read = parse(data, limits=LIMITS)

    assert read == msg
    assert isinstance(read, StatusMessage) and read.known and read.raw_status_code is None
    schema().assertValid(etree.fromstring(data))


def test_a_built_package_is_valid_against_the_schema() -> None:
    schema().assertValid(etree.fromstring(build_package(package())))


def test_the_schema_accepts_the_signature_the_signing_service_appends() -> None:
    data = signed(build_package(package()))

    schema().assertValid(etree.fromstring(data))
    assert parse(data, limits=LIMITS) == package()


@pytest.mark.parametrize(
    "change",
    [
        set_text(f"{HEADER}/From/OrganId", "000.00.00.g22"),
        set_text(f"{HEADER}/PromulgationInfo/PromulgationDate", "30/09/2015"),
        set_text(f"{HEADER}/DocumentId", "7816/VPCP-TTĐT"),
        set_text(f"{TRACE}/Bussiness/BussinessDocType", "4"),
        remove(f"{HEADER}/Subject"),
    ],
    ids=["organ-id", "date", "document-id", "business-type", "no-subject"],
)
def test_the_schema_refuses_what_qcvn_102_does_not_allow(change: Change) -> None:
    data = edit(build_package(package()), change)

    assert not schema().validate(etree.fromstring(data))


def test_the_schema_refuses_status_14_which_we_never_write() -> None:
    data = edit(build_status(status()), set_text(f"{HEADER}/StatusCode", "14"))

    assert not schema().validate(etree.fromstring(data))


def test_the_envelope_is_prefixed_and_the_attachments_sit_outside_it() -> None:
    data = build_package(package())
    root = etree.fromstring(data)

    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert root.tag == q("edXML") and root.prefix is None
    envelope, encoded = list(root)
    assert (envelope.tag, envelope.prefix) == (q("edXMLEnvelope"), "edXML")
    assert encoded.tag == q("AttachmentEncoded")
    references = find(root, "edXMLEnvelope/edXMLBody/edXMLManifest").findall(q("Reference"))
    assert [r.findtext(q("ContentId")) for r in references] == [
        "cid:6f1c2a9e-1b7a-4d0e-9a55-3c1f0b2d8e11",
        "cid:0b7d4e2c-5a61-4f3b-8c9d-7e2a1f4b6c33",
    ]
    assert base64.b64decode(encoded[0].findtext(q("ContentTransferEncoded")) or "") == PDF


def test_timestamps_are_written_in_vietnam_time() -> None:
    data = build_status(status(timestamp=datetime(2024, 12, 31, 17, 30, 0, tzinfo=UTC)))

    assert b"<edXML:Timestamp>2025/01/01 00:30:00</edXML:Timestamp>" in data
    read = parse(data, limits=LIMITS)
    assert isinstance(read, StatusMessage)
    assert read.timestamp.utcoffset() == timedelta(hours=7)


def test_a_naive_timestamp_is_not_guessed() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        build_status(status(timestamp=datetime(2025, 1, 1, 8, 0, 0)))


@pytest.mark.parametrize("code", ["14", "99", ""])
def test_only_the_codes_of_qcvn_102_are_written(code: str) -> None:
    with pytest.raises(ValueError, match="not a QCVN 102 status code"):
        build_status(status(code))


def test_attachments_with_the_same_content_id_are_not_built() -> None:
    first, second = package().attachments

    with pytest.raises(ValueError, match="same content id"):
        build_package(
            package(attachments=(first, dataclasses.replace(second, content_id=first.content_id)))
        )


def test_the_document_id_joins_agency_date_and_number() -> None:
    assert (
        document_id(VPCP, date(2015, 9, 30), "7816", "VPCP-TTĐT")
        == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    )
    with pytest.raises(ValueError):
        document_id("vpcp", date(2015, 9, 30), "7816", "VPCP-TTĐT")


# As other implementations write it ----------------------------------------------------------

# Written by hand the way a public JavaScript sender (and VNPT's library) writes packages: every
# element of the envelope prefixed, the root in the default namespace, attachments outside the
# envelope with a bare content id, extra elements of their own, TypeName before TypeDetail,
# Bussiness after TraceHeader, base64 wrapped at 76 characters, empty elements.
FOREIGN_ATTACHMENT = base64.encodebytes(PDF).decode()
FOREIGN = f"""<?xml version="1.0" encoding="utf-8"?>
<edXML xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="{NAMESPACE}">
  <edXML:edXMLEnvelope xmlns:edXML="{NAMESPACE}">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From>
          <edXML:OrganId>000.00.00.G22</edXML:OrganId>
          <edXML:OrganizationInCharge>Chính phủ</edXML:OrganizationInCharge>
          <edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName>
          <edXML:OrganAdd />
          <edXML:Email />
        </edXML:From>
        <edXML:To>
          <edXML:OrganId>000.00.00.H41</edXML:OrganId>
          <edXML:OrganName>UBND tỉnh Nghệ An</edXML:OrganName>
        </edXML:To>
        <edXML:Code>
          <edXML:CodeNumber>7816</edXML:CodeNumber>
          <edXML:CodeNotation>VPCP-TTĐT</edXML:CodeNotation>
        </edXML:Code>
        <edXML:PromulgationInfo>
          <edXML:Place>Hà Nội</edXML:Place>
          <edXML:PromulgationDate>2015/09/30</edXML:PromulgationDate>
        </edXML:PromulgationInfo>
        <edXML:DocumentType>
          <edXML:Type>18</edXML:Type>
          <edXML:TypeName>Công văn</edXML:TypeName>
          <edXML:TypeDetail>0</edXML:TypeDetail>
        </edXML:DocumentType>
        <edXML:Subject>V/v tăng cường công tác thông tin, tuyên truyền</edXML:Subject>
        <edXML:Content><![CDATA[Nội dung tóm tắt <không phải thẻ>]]></edXML:Content>
        <edXML:SignerInfo>
          <edXML:Competence>Truc tiep</edXML:Competence>
          <edXML:Position>Chủ nhiệm</edXML:Position>
          <edXML:FullName>Mai Tiến Dũng</edXML:FullName>
        </edXML:SignerInfo>
        <edXML:DueDate>2015/10/02</edXML:DueDate>
        <edXML:ToPlaces>
          <edXML:Place>UBND tỉnh Nghệ An</edXML:Place>
        </edXML:ToPlaces>
        <edXML:OtherInfo>
          <edXML:Priority>0</edXML:Priority>
          <edXML:SphereOfPromulgation>Lien thong van ban</edXML:SphereOfPromulgation>
          <edXML:TyperNotation>TVC</edXML:TyperNotation>
          <edXML:PromulgationAmount>1</edXML:PromulgationAmount>
          <edXML:PageAmount>2</edXML:PageAmount>
          <edXML:Direction>false</edXML:Direction>
          <edXML:Appendixes>
            <edXML:Appendix></edXML:Appendix>
          </edXML:Appendixes>
        </edXML:OtherInfo>
        <edXML:SteeringType>0</edXML:SteeringType>
        <edXML:DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</edXML:DocumentId>
      </edXML:MessageHeader>
      <edXML:TraceHeaderList id="5f3a9c1d" version="1.0" mustUnderstand="1"
          actor="http://schemas.xmlsoap.org/soap/actor/next">
        <edXML:TraceHeader>
          <edXML:OrganId>000.00.00.G22</edXML:OrganId>
          <edXML:Timestamp>2015/09/30 16:42:07</edXML:Timestamp>
        </edXML:TraceHeader>
        <edXML:Bussiness>
          <edXML:BussinessDocType>0</edXML:BussinessDocType>
          <edXML:BussinessDocReason>Van ban dien tu moi</edXML:BussinessDocReason>
          <edXML:StaffInfo>
            <edXML:Department>N/A</edXML:Department>
            <edXML:Staff>Mai Tiến Dũng</edXML:Staff>
            <edXML:Mobile></edXML:Mobile>
            <edXML:Email></edXML:Email>
          </edXML:StaffInfo>
          <edXML:Paper>0</edXML:Paper>
        </edXML:Bussiness>
      </edXML:TraceHeaderList>
      <edXML:DigitalSignature />
    </edXML:edXMLHeader>
    <edXML:edXMLBody>
      <edXML:edXMLManifest version="1.0">
        <edXML:Reference xmlns:xlink="http://www.w3.org/1999/xlink"
            xlink:href="cid:3d0c4f7e-2a18-4b5e-9e1d-6a7b8c9d0e1f" xlink:type="simple">
          <edXML:Description>File dinh kem 1</edXML:Description>
          <edXML:AttachmentName>7816-VPCP-TTĐT.pdf</edXML:AttachmentName>
          <edXML:ContentType>application/pdf</edXML:ContentType>
          <edXML:ContentId>cid:3d0c4f7e-2a18-4b5e-9e1d-6a7b8c9d0e1f</edXML:ContentId>
        </edXML:Reference>
      </edXML:edXMLManifest>
    </edXML:edXMLBody>
  </edXML:edXMLEnvelope>
  <AttachmentEncoded>
    <Attachment>
      <ContentType>application/pdf</ContentType>
      <ContentId>3d0c4f7e-2a18-4b5e-9e1d-6a7b8c9d0e1f</ContentId>
      <Description>File dinh kem 1</Description>
      <ContentTransferEncoded>{FOREIGN_ATTACHMENT}</ContentTransferEncoded>
      <AttachmentName>7816-VPCP-TTĐT.pdf</AttachmentName>
    </Attachment>
  </AttachmentEncoded>
</edXML>
""".encode()

# A status as a .NET sender writes it: OrganizationInCharge and empty elements, 14 for agreeing.
FOREIGN_STATUS = f"""<?xml version="1.0" encoding="utf-8"?>
<edXML xmlns="{NAMESPACE}"><edXML:edXMLEnvelope xmlns:edXML="{NAMESPACE}"><edXML:edXMLHeader>
<edXML:MessageHeader>
<edXML:ResponseFor><edXML:OrganId>000.00.00.G22</edXML:OrganId>
<edXML:Code>7816/VPCP-TTĐT</edXML:Code><edXML:PromulgationDate>2015/09/30</edXML:PromulgationDate>
<edXML:DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</edXML:DocumentId></edXML:ResponseFor>
<edXML:From><edXML:OrganId>000.00.00.H41</edXML:OrganId><edXML:OrganName>UBND tỉnh Nghệ An</edXML:OrganName>
<edXML:OrganizationInCharge /><edXML:OrganAdd /><edXML:Email /><edXML:Telephone /><edXML:Fax />
<edXML:Website /></edXML:From>
<edXML:StatusCode>14</edXML:StatusCode><edXML:Description>Đồng ý thu hồi</edXML:Description>
<edXML:Timestamp>2015/10/02 08:00:00</edXML:Timestamp>
<edXML:StaffInfo><edXML:Department>Văn thư</edXML:Department><edXML:Staff>Lê Văn C</edXML:Staff>
</edXML:StaffInfo>
</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope></edXML>
""".encode()


def test_a_package_as_another_implementation_writes_it_is_read() -> None:
    pkg = read_package(FOREIGN)

    assert pkg.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert pkg.from_ == Organ(organ_id=VPCP, organ_name="Văn phòng Chính phủ")
    assert pkg.to == (Organ(organ_id=NGHE_AN, organ_name="UBND tỉnh Nghệ An"),)
    assert pkg.code == Code(code_number="7816", code_notation="VPCP-TTĐT")
    assert pkg.document_type == DocumentType(type=18, type_name="Công văn", type_detail=0)
    assert pkg.content == "Nội dung tóm tắt <không phải thẻ>"
    assert pkg.signer_info == SignerInfo(
        competence="Truc tiep", position="Chủ nhiệm", full_name="Mai Tiến Dũng"
    )
    assert pkg.to_places == ("UBND tỉnh Nghệ An",)
    assert pkg.due_date == date(2015, 10, 2)
    assert pkg.other_info == OtherInfo(
        sphere_of_promulgation="Lien thong van ban",
        typer_notation="TVC",
        promulgation_amount=1,
        page_amount=2,
    )
    assert pkg.trace_headers == (
        TraceHeader(organ_id=VPCP, timestamp=datetime(2015, 9, 30, 9, 42, 7, tzinfo=UTC)),
    )
    assert pkg.business == Business(
        doc_reason="Van ban dien tu moi",
        staff_info=(StaffInfo(department="N/A", staff="Mai Tiến Dũng"),),
    )
    assert pkg.attachments == (
        Attachment(
            content_id="3d0c4f7e-2a18-4b5e-9e1d-6a7b8c9d0e1f",
            name="7816-VPCP-TTĐT.pdf",
            content_type="application/pdf",
            description="File dinh kem 1",
            data=PDF,
        ),
    )


def test_a_package_written_without_prefixes_is_read_the_same() -> None:
    data = build_package(package())
    unprefixed = data.replace(f' xmlns:edXML="{NAMESPACE}"'.encode(), b"").replace(b"edXML:", b"")
    assert b"edXML:" not in unprefixed

    assert parse(unprefixed, limits=LIMITS) == package()


def test_an_element_of_another_namespace_is_not_read_for_ours() -> None:
    data = edit(
        build_package(package()),
        lambda root: setattr(find(root, f"{HEADER}/Subject"), "tag", "{urn:other}Subject"),
    )

    error = refused(data)

    assert error.reason == "EDXML_MISSING_FIELD"
    assert error.metadata["field"].endswith("MessageHeader/Subject")


def test_a_status_14_is_read_as_15_and_the_raw_code_is_kept() -> None:
    msg = parse(FOREIGN_STATUS, limits=LIMITS)

    assert isinstance(msg, StatusMessage)
    assert msg.status_code == "15" and msg.status_code is StatusCode.AGREED
    assert msg.raw_status_code == "14"
    assert msg.from_ == Organ(organ_id=NGHE_AN, organ_name="UBND tỉnh Nghệ An")
    assert msg.response_for.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert msg.timestamp == datetime(2015, 10, 2, 1, 0, 0, tzinfo=UTC)


def test_an_unknown_status_code_is_kept_as_its_text() -> None:
    data = FOREIGN_STATUS.replace(b">14<", b">99-X<")

    msg = parse(data, limits=LIMITS)

    assert isinstance(msg, StatusMessage)
    assert msg.status_code == "99-X"
    assert not msg.known and msg.raw_status_code is None


# Hostile or broken input --------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE edXML [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + f'<edXML xmlns="{NAMESPACE}"><edXMLEnvelope>&lol9;</edXMLEnvelope></edXML>\n'.encode()
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE edXML [\n'
    b' <!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
    + f'<edXML xmlns="{NAMESPACE}"><edXMLEnvelope>&secret;</edXMLEnvelope></edXML>\n'.encode()
)


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_a_doctype_is_refused(data: bytes) -> None:
    error = refused(data)

    assert error.reason == "XML_DOCTYPE_FORBIDDEN"
    assert isinstance(error, InvalidArgumentError)


def test_a_package_over_the_size_limit_is_refused() -> None:
    data = build_package(package())
    assert parse(data, limits=Limits(max_package_bytes=len(data))) == package()

    error = refused(data, Limits(max_package_bytes=len(data) - 1))

    assert error.reason == "EDXML_TOO_LARGE"


def test_malformed_xml_is_refused() -> None:
    data = build_package(package())

    assert refused(data[: len(data) // 2]).reason == "EDXML_MALFORMED"


def test_too_many_attachments_are_refused() -> None:
    data = build_package(package())
    assert len(read_package(data, Limits(max_attachments=2)).attachments) == 2

    error = refused(data, Limits(max_attachments=1))

    assert error.reason == "EDXML_TOO_MANY_ATTACHMENTS"


@pytest.mark.parametrize("excess", [1, 2, 3])
def test_an_attachment_over_the_size_limit_is_refused(excess: int) -> None:
    # The larger attachment is the second; base64 rounds its size up to a multiple of 3.
    assert len(DOCX) > len(PDF)
    data = build_package(package())
    assert read_package(data, Limits(max_attachment_bytes=len(DOCX))) == package()

    error = refused(data, Limits(max_attachment_bytes=len(DOCX) - excess))

    assert error.reason == "EDXML_TOO_LARGE"
    assert error.metadata["field"] == "edXML/AttachmentEncoded/Attachment[2]/ContentTransferEncoded"


@pytest.mark.parametrize(
    "encoded",
    ["JVBERi0xLjc=!", "JVBERi0xLjc", "JVBE\u00a0Ri0xLjc=", "JVBERi0xLjc=====", "Ｊｖｂｅ"],
    ids=["foreign-character", "no-padding", "non-xml-space", "too-much-padding", "fullwidth"],
)
def test_bad_base64_is_refused(encoded: str) -> None:
    path = "AttachmentEncoded/Attachment/ContentTransferEncoded"
    data = edit(build_package(package()), set_text(path, encoded))

    error = refused(data)

    assert error.reason == "EDXML_INVALID_FIELD"
    assert error.metadata["field"] == "edXML/AttachmentEncoded/Attachment[1]/ContentTransferEncoded"


def test_base64_broken_into_lines_is_read() -> None:
    path = "AttachmentEncoded/Attachment/ContentTransferEncoded"
    wrapped = "\r\n".join(base64.encodebytes(PDF).decode().split("\n"))
    data = edit(build_package(package()), set_text(path, f"\n  {wrapped}\t"))

    assert parse(data, limits=LIMITS) == package()


def drop_second(name: str) -> Change:
    def change(root: etree._Element) -> None:
        parent = find(root, name)
        parent.remove(parent[1])

    return change


def duplicate_content_id(root: etree._Element) -> None:
    first, second = find(root, "AttachmentEncoded")
    second.find(q("ContentId")).text = first.findtext(q("ContentId"))


@pytest.mark.parametrize(
    "change",
    [
        drop_second("AttachmentEncoded"),
        drop_second("edXMLEnvelope/edXMLBody/edXMLManifest"),
        duplicate_content_id,
        remove("AttachmentEncoded"),
    ],
    ids=["reference-without-attachment", "attachment-without-reference", "same-id", "no-content"],
)
def test_manifest_and_attachments_that_disagree_are_refused(change: Change) -> None:
    data = edit(build_package(package()), change)

    assert refused(data).reason == "EDXML_ATTACHMENT_MISMATCH"


def test_a_document_id_of_another_agency_is_refused() -> None:
    other = f"{NGHE_AN},2015/09/30,7816/VPCP-TTĐT"
    data = edit(build_package(package()), set_text(f"{HEADER}/DocumentId", other))

    error = refused(data)

    assert error.reason == "EDXML_INVALID_FIELD"
    assert error.metadata["field"] == "edXML/edXMLEnvelope/edXMLHeader/MessageHeader/DocumentId"
    assert NGHE_AN in error.message


@pytest.mark.parametrize(
    "value",
    [
        "000.00.00.G22,2015-09-30,7816/VPCP-TTĐT",
        "000.00.00.G22,2015/02/30,7816/VPCP-TTĐT",
        "000.00.00.G22,2015/09/30,VPCP-TTĐT",
        "000.00.00.G22,2015/09/30,7816/",
        "000.00.00.G22;2015/09/30;7816/VPCP-TTĐT",
        "000.00.00.G22,2015/09/30,7816/" + "X" * 71,  # 101 characters
    ],
    ids=["iso-date", "no-such-day", "no-number", "no-notation", "semicolons", "too-long"],
)
def test_a_document_id_of_another_shape_is_refused(value: str) -> None:
    data = edit(build_package(package()), set_text(f"{HEADER}/DocumentId", value))

    error = refused(data)

    assert error.reason == "EDXML_INVALID_FIELD"
    assert error.metadata["field"].endswith("MessageHeader/DocumentId")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (f"{HEADER}/PromulgationInfo/PromulgationDate", "2015/02/29"),
        (f"{HEADER}/PromulgationInfo/PromulgationDate", "30/09/2015"),
        (f"{HEADER}/PromulgationInfo/PromulgationDate", "2015/9/30"),
        (f"{HEADER}/DueDate", "2015/13/01"),
        (f"{HEADER}/ResponseFor/PromulgationDate", "2015/09/31"),
        (f"{TRACE}/TraceHeader/Timestamp", "2015/09/30 24:00:00"),
        (f"{TRACE}/TraceHeader/Timestamp", "2015/09/30T08:00:00"),
        # Real days, but no UTC instant or protobuf Timestamp holds them.
        (f"{TRACE}/TraceHeader/Timestamp", "0001/01/01 00:00:00"),
        (f"{HEADER}/PromulgationInfo/PromulgationDate", "0001/01/01"),
    ],
)
def test_a_bad_date_is_refused(path: str, value: str) -> None:
    data = edit(build_package(package()), set_text(path, value))

    error = refused(data)

    assert error.reason == "EDXML_INVALID_FIELD"
    assert value in error.message


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (f"{HEADER}/Subject", "", "EDXML_MISSING_FIELD"),
        (f"{HEADER}/Subject", "Về việc " + "x" * 493, "EDXML_INVALID_FIELD"),
        (f"{HEADER}/Code/CodeNumber", "78a", "EDXML_INVALID_FIELD"),
        (f"{HEADER}/Code/CodeNotation", "V" * 31, "EDXML_INVALID_FIELD"),
        (f"{HEADER}/From/OrganId", "000.00.00.g22", "EDXML_INVALID_FIELD"),
        (f"{HEADER}/To/OrganId", "000.00.00.H41.01", "EDXML_INVALID_FIELD"),
        (f"{HEADER}/From/OrganName", "Ủ" * 201, "EDXML_INVALID_FIELD"),
        (f"{HEADER}/OtherInfo/PageAmount", "-2", "EDXML_INVALID_FIELD"),
        (f"{TRACE}/Bussiness/BussinessDocType", "4", "EDXML_INVALID_FIELD"),
        (f"{TRACE}/Bussiness/Paper", "2", "EDXML_INVALID_FIELD"),
    ],
)
def test_a_field_out_of_bounds_is_refused(path: str, value: str, reason: str) -> None:
    data = edit(build_package(package()), set_text(path, value))

    error = refused(data)

    assert error.reason == reason
    # Repeated elements are numbered in the path: the first To is To[1].
    assert error.metadata["field"].replace("[1]", "") == f"edXML/{path}"


def test_more_recipients_than_the_limit_are_refused() -> None:
    data = build_package(package())
    assert len(read_package(data, Limits(max_recipients=2)).to) == 2

    error = refused(data, Limits(max_recipients=1))

    assert error.reason == "EDXML_INVALID_FIELD"
    assert error.metadata["field"] == "edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To"


def test_a_package_to_seven_hundred_agencies_is_read() -> None:
    # A ministry's circular to every agency of the country names each in To.
    recipients = tuple(
        Organ(organ_id=f"000.{n // 100:02d}.{n % 100:02d}.H01", organ_name=f"Cơ quan {n}")
        for n in range(700)
    )
    data = build_package(replace(package(), to=recipients))

    assert read_package(data).to == recipients


def test_more_repeated_elements_than_the_limit_are_refused() -> None:
    data = build_package(package())
    assert len(read_package(data, Limits(max_items=2)).other_info.appendixes) == 2

    error = refused(data, Limits(max_items=1))

    assert error.reason == "EDXML_INVALID_FIELD"
    assert error.metadata["field"].endswith("OtherInfo/Appendixes/Appendix")


def test_a_subject_at_the_limit_is_read() -> None:
    subject = "Về việc " + "x" * 492

    assert read_package(build_package(package(subject=subject))).subject == subject


def test_a_missing_part_is_named() -> None:
    data = edit(build_package(package()), remove(f"{HEADER}/Code"))

    error = refused(data)

    assert error.reason == "EDXML_MISSING_FIELD"
    assert error.metadata["field"] == "edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Code"


@pytest.mark.parametrize(
    "data",
    [
        f'<edXMLEnvelope xmlns="{NAMESPACE}"><edXMLHeader/></edXMLEnvelope>'.encode(),
        b'<EdXMLEnvelope xmlns="http://www.go.vn/eDoc"><Header/></EdXMLEnvelope>',
        b"<edXML><edXMLEnvelope/></edXML>",
        f'<edXML xmlns="{NAMESPACE}"><AttachmentEncoded/></edXML>'.encode(),
    ],
    ids=["bare-envelope", "go-vn-edoc", "no-namespace", "no-envelope"],
)
def test_what_is_not_qcvn_102_edxml_is_refused(data: bytes) -> None:
    assert refused(data).reason == "EDXML_NOT_EDXML"


def test_a_signature_must_be_the_last_child_of_the_root() -> None:
    def move_signature_first(root: etree._Element) -> None:
        root.insert(0, root[-1])

    data = edit(signed(build_package(package())), move_signature_first)

    assert refused(data).reason == "EDXML_MALFORMED"


def test_an_unexpected_element_under_the_root_is_refused() -> None:
    def smuggle(root: etree._Element) -> None:
        etree.SubElement(root, q("AttachmentEncoded"))

    data = edit(build_package(package()), smuggle)

    assert refused(data).reason == "EDXML_MALFORMED"


def test_a_single_element_given_twice_is_refused() -> None:
    def twice(root: etree._Element) -> None:
        subject = find(root, f"{HEADER}/Subject")
        subject.addnext(etree.fromstring(etree.tostring(subject)))

    error = refused(edit(build_package(package()), twice))

    assert error.reason == "EDXML_INVALID_FIELD"
    assert error.metadata["field"].endswith("MessageHeader/Subject")


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_attachments"):
        Limits(max_attachments=0)
