"""Enveloped XMLDSig with keys in the real SoftHSM token: signing, verifying against the agency
root, and refusing hostile or tampered XML."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
)

from vanban.platform.errors import FailedPreconditionError, InvalidArgumentError
from vanban.signing.adapters.ca import DevelopmentCa
from vanban.signing.adapters.token import Token
from vanban.signing.adapters.xmldsig import parse_xml, sign_enveloped, verify_enveloped

AGENCY = "Ủy ban nhân dân tỉnh Demo"
AGENCY_CODE = "000.00.00.H99"
MAX_BYTES = 1024 * 1024
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}
EDXML = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
ATTACHMENT = b"%PDF-1.7\n% C\xc3\xb4ng v\xc4\x83n s\xe1\xbb\x91 123\n%%EOF\n"


def make_envelope(
    *,
    subject: str = "Về việc triển khai kế hoạch chuyển đổi số năm 2025",
    root_attributes: str = "",
    extra: str = "",
) -> bytes:
    """An edXML package (QCVN 102:2016 shape) from the agency to one of its departments."""
    attachment = base64.b64encode(ATTACHMENT).decode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML:edXMLEnvelope xmlns:edXML="{EDXML}"{root_attributes}>
  <edXML:edXMLHeader>
    <edXML:MessageHeader>
      <edXML:From>
        <edXML:OrganId>{AGENCY_CODE}</edXML:OrganId>
        <edXML:OrganName>{AGENCY}</edXML:OrganName>
        <edXML:OrganAdd>Số 1 đường Trần Hưng Đạo, thành phố Demo</edXML:OrganAdd>
      </edXML:From>
      <edXML:To>
        <edXML:OrganId>000.01.00.H99</edXML:OrganId>
        <edXML:OrganName>Sở Nội vụ tỉnh Demo</edXML:OrganName>
      </edXML:To>
      <edXML:Code>
        <edXML:CodeNumber>123</edXML:CodeNumber>
        <edXML:CodeNotation>UBND-VP</edXML:CodeNotation>
      </edXML:Code>
      <edXML:PromulgationInfo>
        <edXML:Place>Demo</edXML:Place>
        <edXML:PromulgationDate>2025-03-14</edXML:PromulgationDate>
      </edXML:PromulgationInfo>
      <edXML:DocumentType>
        <edXML:Type>1</edXML:Type>
        <edXML:TypeName>Công văn</edXML:TypeName>
      </edXML:DocumentType>
      <edXML:Subject>{subject}</edXML:Subject>
      <edXML:SignerInfo>
        <edXML:Competence>TM. Ủy ban nhân dân</edXML:Competence>
        <edXML:Position>Chủ tịch</edXML:Position>
        <edXML:FullName>Nguyễn Văn An</edXML:FullName>
      </edXML:SignerInfo>
    </edXML:MessageHeader>
  </edXML:edXMLHeader>
  <edXML:edXMLBody Id="body">
    <edXML:edXMLManifest version="1.0">
      <edXML:Reference>
        <edXML:ContentId>cid:cong-van-123</edXML:ContentId>
        <edXML:ContentType>application/pdf</edXML:ContentType>
        <edXML:Description>Công văn số 123/UBND-VP</edXML:Description>
        <edXML:AttachmentName>cong-van-123.pdf</edXML:AttachmentName>
      </edXML:Reference>
    </edXML:edXMLManifest>
    <edXML:Attachment ContentId="cid:cong-van-123" ContentTransferEncoded="base64">{attachment}</edXML:Attachment>
  </edXML:edXMLBody>{extra}
</edXML:edXMLEnvelope>
""".encode()


def canonical(xml: bytes) -> bytes:
    return bytes(etree.tostring(etree.fromstring(xml), method="c14n", exclusive=True))


@dataclass(frozen=True)
class Signer:
    label: str
    certificate: x509.Certificate


@pytest.fixture(scope="module")
def organisation(token: Token, dev_ca: DevelopmentCa) -> Signer:
    label = f"xmldsig-org-{uuid.uuid4().hex}"
    public = token.generate_rsa(label)
    return Signer(
        label, dev_ca.issue_organisation(public, agency_name=AGENCY, agency_code=AGENCY_CODE)
    )


@pytest.fixture(scope="module")
def organisation_ec(token: Token, dev_ca: DevelopmentCa) -> Signer:
    label = f"xmldsig-org-ec-{uuid.uuid4().hex}"
    public = token.generate_ec(label)
    return Signer(
        label, dev_ca.issue_organisation(public, agency_name=AGENCY, agency_code=AGENCY_CODE)
    )


def sign(token: Token, dev_ca: DevelopmentCa, signer: Signer, xml: bytes | None = None) -> bytes:
    return sign_enveloped(
        make_envelope() if xml is None else xml,
        key=token.key(signer.label),
        certificate=signer.certificate,
        chain=[dev_ca.root],
        max_bytes=MAX_BYTES,
    )


def verify(xml: bytes, dev_ca: DevelopmentCa) -> x509.Certificate:
    return verify_enveloped(xml, trust_roots=[dev_ca.root], max_bytes=MAX_BYTES).signer


# A CA outside the agency, all in software --------------------------------------------------


@dataclass(frozen=True)
class ForeignCa:
    root: x509.Certificate
    leaf: x509.Certificate
    leaf_key: rsa.RSAPrivateKey


def _software_certificate(
    subject: str,
    public: rsa.RSAPublicKey,
    issuer: x509.Name | None,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def foreign_ca() -> ForeignCa:
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _software_certificate(
        f"{AGENCY} - CA (development)", root_key.public_key(), None, root_key, ca=True
    )
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = _software_certificate(AGENCY, leaf_key.public_key(), root.subject, root_key, ca=False)
    return ForeignCa(root, leaf, leaf_key)


def software_sign(
    xml: bytes, key: rsa.RSAPrivateKey, certificates: list[x509.Certificate]
) -> bytes:
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(etree.fromstring(xml), key=key, cert=certificates)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def refused(error: pytest.ExceptionInfo[Exception]) -> str:
    assert isinstance(error.value, FailedPreconditionError | InvalidArgumentError)
    return error.value.reason


# Signing and verifying ---------------------------------------------------------------------


def test_signed_envelope_verifies_and_yields_exactly_the_signed_content(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    original = make_envelope()
    signed = sign(token, dev_ca, organisation, original)

    verified = verify_enveloped(signed, trust_roots=[dev_ca.root], max_bytes=MAX_BYTES)

    assert verified.signer == organisation.certificate
    assert verified.signed_xml == canonical(original)
    content = verified.signed_xml.decode()
    assert f"<edXML:OrganName>{AGENCY}</edXML:OrganName>" in content
    assert base64.b64encode(ATTACHMENT).decode() in content
    assert "Signature" not in content


def test_signature_is_enveloped_rsa_sha256_exclusive_c14n_with_the_chain(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    root = etree.fromstring(sign(token, dev_ca, organisation))

    signature = root[-1]
    assert signature.tag == f"{{{DS}}}Signature"
    signed_info = signature.find("ds:SignedInfo", NS)
    assert signed_info.find("ds:SignatureMethod", NS).get("Algorithm") == (
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    assert signed_info.find("ds:CanonicalizationMethod", NS).get("Algorithm") == (
        "http://www.w3.org/2001/10/xml-exc-c14n#"
    )
    reference = signed_info.find("ds:Reference", NS)
    assert reference.get("URI") == ""
    assert [t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", NS)] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
    ]
    assert reference.find("ds:DigestMethod", NS).get("Algorithm") == (
        "http://www.w3.org/2001/04/xmlenc#sha256"
    )
    key_info = [
        x509.load_der_x509_certificate(base64.b64decode(element.text))
        for element in signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    ]
    assert key_info == [organisation.certificate, dev_ca.root]


def test_signature_is_made_by_the_tokens_key(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    signed = sign(token, dev_ca, organisation)

    signer = verify(signed, dev_ca)

    token_public = token.public_key(organisation.label)
    assert signer.public_key() == token_public
    # The SignatureValue itself holds under the token's public key, outside signxml.
    signature = etree.fromstring(signed).find("ds:Signature", NS)
    signed_info = etree.tostring(signature.find("ds:SignedInfo", NS), method="c14n", exclusive=True)
    value = base64.b64decode(signature.find("ds:SignatureValue", NS).text)
    assert isinstance(token_public, rsa.RSAPublicKey)
    token_public.verify(value, signed_info, padding.PKCS1v15(), hashes.SHA256())


def test_ecdsa_signature_with_an_ec_key_in_the_token(
    token: Token, dev_ca: DevelopmentCa, organisation_ec: Signer
) -> None:
    original = make_envelope()
    signed = sign(token, dev_ca, organisation_ec, original)

    verified = verify_enveloped(signed, trust_roots=[dev_ca.root], max_bytes=MAX_BYTES)

    method = etree.fromstring(signed).find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS)
    assert method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    assert verified.signed_xml == canonical(original)
    token_public = token.public_key(organisation_ec.label)
    assert isinstance(token_public, ec.EllipticCurvePublicKey)
    assert verified.signer.public_key() == token_public
    tampered = signed.replace(b"Demo</edXML:OrganName>", b"Dem0</edXML:OrganName>", 1)
    assert tampered != signed
    with pytest.raises(FailedPreconditionError) as error:
        verify(tampered, dev_ca)
    assert refused(error) == "INVALID_SIGNATURE"


def test_root_with_an_id_is_signed_whole_and_verifies(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    original = make_envelope(root_attributes=' Id="envelope-1"')
    signed = sign(token, dev_ca, organisation, original)

    verified = verify_enveloped(signed, trust_roots=[dev_ca.root], max_bytes=MAX_BYTES)

    assert verified.signed_xml == canonical(original)


# Tampering ---------------------------------------------------------------------------------


def test_one_changed_character_of_content_is_an_invalid_signature(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    signed = sign(token, dev_ca, organisation)
    tampered = signed.replace("năm 2025".encode(), "năm 2026".encode(), 1)
    assert tampered != signed

    with pytest.raises(FailedPreconditionError) as error:
        verify(tampered, dev_ca)

    assert refused(error) == "INVALID_SIGNATURE"


def test_changed_signature_value_is_an_invalid_signature(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    root = etree.fromstring(sign(token, dev_ca, organisation))
    value = root.find("ds:Signature/ds:SignatureValue", NS)
    raw = bytearray(base64.b64decode(value.text))
    raw[len(raw) // 2] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()

    with pytest.raises(FailedPreconditionError) as error:
        verify(etree.tostring(root), dev_ca)

    assert refused(error) == "INVALID_SIGNATURE"


def test_signature_over_a_part_of_the_document_is_refused(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    # A valid signature by a trusted key that covers only edXMLBody: the header is unsigned.
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(
        etree.fromstring(make_envelope()),
        key=cast(Any, token.key(organisation.label)),
        cert=[organisation.certificate, dev_ca.root],
        reference_uri="#body",
    )

    with pytest.raises(FailedPreconditionError) as error:
        verify(etree.tostring(signed), dev_ca)

    assert refused(error) == "INVALID_SIGNATURE"
    assert "whole document" in str(error.value)


def test_document_without_signature_is_refused(dev_ca: DevelopmentCa) -> None:
    with pytest.raises(FailedPreconditionError) as error:
        verify(make_envelope(), dev_ca)

    assert refused(error) == "SIGNATURE_MISSING"


# Trust -------------------------------------------------------------------------------------


def test_signature_by_another_ca_is_untrusted(dev_ca: DevelopmentCa, foreign_ca: ForeignCa) -> None:
    signed = software_sign(make_envelope(), foreign_ca.leaf_key, [foreign_ca.leaf, foreign_ca.root])
    # The signature itself is sound: it holds for whoever trusts the other CA.
    assert (
        verify_enveloped(signed, trust_roots=[foreign_ca.root], max_bytes=MAX_BYTES).signer
        == foreign_ca.leaf
    )

    with pytest.raises(FailedPreconditionError) as error:
        verify(signed, dev_ca)

    assert refused(error) == "UNTRUSTED_CERTIFICATE"


@pytest.mark.parametrize("with_foreign_leaf_first", [False, True])
def test_trusted_certificate_does_not_vouch_for_another_key(
    dev_ca: DevelopmentCa,
    foreign_ca: ForeignCa,
    organisation: Signer,
    with_foreign_leaf_first: bool,
) -> None:
    # Signed by a software key, but KeyInfo shows the agency's certificate (after, or instead
    # of, the real signer's): the key that must verify is the trusted certificate's.
    certificates = [organisation.certificate, dev_ca.root]
    if with_foreign_leaf_first:
        certificates.insert(0, foreign_ca.leaf)
    signed = software_sign(make_envelope(), foreign_ca.leaf_key, certificates)

    with pytest.raises(FailedPreconditionError) as error:
        verify(signed, dev_ca)

    assert refused(error) == "INVALID_SIGNATURE"


def test_expired_signer_certificate_is_refused(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    public = token.public_key(organisation.label)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{AGENCY} (expiring)")])
    expiring = dev_ca.issue(public, subject, years=0)  # valid until this second
    signed = sign(token, dev_ca, Signer(organisation.label, expiring))
    time.sleep(max(0.0, (expiring.not_valid_after_utc - datetime.now(UTC)).total_seconds()) + 1.1)

    with pytest.raises(FailedPreconditionError) as error:
        verify(signed, dev_ca)

    assert refused(error) == "CERTIFICATE_EXPIRED"


def test_signing_with_a_certificate_for_another_key_is_refused(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer, organisation_ec: Signer
) -> None:
    with pytest.raises(FailedPreconditionError) as error:
        sign(token, dev_ca, Signer(organisation.label, organisation_ec.certificate))

    assert refused(error) == "CERTIFICATE_KEY_MISMATCH"


def test_signing_a_signed_document_again_is_refused(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    signed = sign(token, dev_ca, organisation)

    with pytest.raises(InvalidArgumentError) as error:
        sign(token, dev_ca, organisation, signed)

    assert refused(error) == "XML_ALREADY_SIGNED"


# Hostile input -----------------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>\n"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE edXMLEnvelope [\n'
    b' <!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
    b"<edXMLEnvelope><Subject>&secret;</Subject></edXMLEnvelope>\n"
)


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_doctype_is_forbidden(
    xml: bytes, token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    with pytest.raises(InvalidArgumentError) as parsed:
        parse_xml(xml, max_bytes=MAX_BYTES)
    with pytest.raises(InvalidArgumentError) as verified:
        verify(xml, dev_ca)
    with pytest.raises(InvalidArgumentError) as signed:
        sign(token, dev_ca, organisation, xml)

    assert [refused(e) for e in (parsed, verified, signed)] == ["XML_DOCTYPE_FORBIDDEN"] * 3
    assert "root:" not in str(parsed.value)


def test_doctype_in_a_utf16_document_is_forbidden() -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'

    with pytest.raises(InvalidArgumentError) as error:
        parse_xml(xml.encode("utf-16"), max_bytes=MAX_BYTES)

    assert refused(error) == "XML_DOCTYPE_FORBIDDEN"


def test_xml_over_the_size_limit_is_refused(
    token: Token, dev_ca: DevelopmentCa, organisation: Signer
) -> None:
    xml = make_envelope()
    assert parse_xml(xml, max_bytes=len(xml)).tag == f"{{{EDXML}}}edXMLEnvelope"
    signed = sign(token, dev_ca, organisation, xml)

    with pytest.raises(InvalidArgumentError) as parsed:
        parse_xml(xml, max_bytes=len(xml) - 1)
    with pytest.raises(InvalidArgumentError) as verified:
        verify_enveloped(signed, trust_roots=[dev_ca.root], max_bytes=len(signed) - 1)
    with pytest.raises(InvalidArgumentError) as signing:
        sign_enveloped(
            xml,
            key=token.key(organisation.label),
            certificate=organisation.certificate,
            max_bytes=len(xml) - 1,
        )

    assert [refused(e) for e in (parsed, verified, signing)] == ["XML_TOO_LARGE"] * 3


def test_malformed_xml_is_refused_with_the_parsers_message() -> None:
    with pytest.raises(InvalidArgumentError) as error:
        parse_xml(b"<edXMLEnvelope><Subject>x</edXMLEnvelope>", max_bytes=MAX_BYTES)

    assert refused(error) == "XML_MALFORMED"
    assert "Opening and ending tag mismatch" in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__
