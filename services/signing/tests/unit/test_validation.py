"""Validation of signed PDFs with real pyHanko signatures made with software keys (RSA 2048 for
speed): the token is not what is tested here."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.pdfgen import canvas

from vanban.platform.errors import InvalidArgumentError
from vanban.signing.adapters.validation import validate_pdf
from vanban.signing.domain.model import PadesLevel, ValidationResult

AGENCY = "Ủy ban nhân dân tỉnh Demo"


@dataclass(frozen=True)
class Party:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate


def make_name(common_name: str, **attributes: str) -> x509.Name:
    extra = [x509.NameAttribute(getattr(NameOID, k), v) for k, v in attributes.items()]
    country = x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")
    return x509.Name([country, *extra, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str = "Demo CA") -> Party:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = make_name(common_name, ORGANIZATION_NAME=AGENCY)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Party(key, cert)


def make_leaf(ca: Party, subject: x509.Name, *, timestamping: bool = False) -> Party:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=not timestamping), critical=True)
    )
    if timestamping:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return Party(key, builder.sign(ca.key, hashes.SHA256()))


def _key_usage(*, key_cert_sign: bool = False, signer: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not key_cert_sign,
        content_commitment=signer,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_pdf(text: str = "Quyet dinh so 1/QD-UBND", **canvas_options: object) -> bytes:
    buffer = io.BytesIO()
    # Uncompressed, so that a test can find the page's text in the file.
    page = canvas.Canvas(buffer, invariant=1, pageCompression=0, **canvas_options)  # type: ignore[arg-type]
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(key: rsa.RSAPrivateKey) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


async def sign(
    data: bytes,
    signer: Party,
    ca: Party,
    *,
    field: str = "Sig1",
    box: tuple[int, int, int, int] | None = None,
    tsa: Party | None = None,
    validation_info: bool = False,
    archival: bool = False,
) -> bytes:
    simple = signers.SimpleSigner(
        signing_cert=_asn1(signer.cert),
        signing_key=_asn1_key(signer.key),
        cert_registry=SimpleCertificateStore.from_certs([_asn1(ca.cert)]),
    )
    timestamper = (
        timestamps.DummyTimeStamper(
            tsa_cert=_asn1(tsa.cert),
            tsa_key=_asn1_key(tsa.key),
            certs_to_embed=SimpleCertificateStore.from_certs([_asn1(ca.cert)]),
        )
        if tsa is not None
        else None
    )
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name=field,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            # B-LT: the chain in the document security store; B-LTA: and a document timestamp.
            embed_validation_info=validation_info or archival,
            use_pades_lta=archival,
            validation_context=ValidationContext(
                trust_roots=[_asn1(ca.cert)], allow_fetching=False, revocation_mode="soft-fail"
            )
            if validation_info or archival
            else None,
        ),
        simple,
        timestamper=timestamper,
        new_field_spec=fields.SigFieldSpec(field, on_page=0, box=box) if box else None,
    )
    out = await pdf_signer.async_sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)))
    return out.getvalue()


@dataclass(frozen=True)
class Pki:
    ca: Party
    person: Party
    organisation: Party
    tsa: Party
    stranger: Party  # issued by a CA nobody trusts


@pytest.fixture(scope="module")
def pki() -> Pki:
    ca = make_ca()
    other_ca = make_ca("Unknown CA")
    return Pki(
        ca=ca,
        person=make_leaf(
            ca,
            make_name(
                "Nguyễn Văn An",
                ORGANIZATION_NAME=AGENCY,
                SURNAME="Nguyễn",
                GIVEN_NAME="Văn An",
                SERIAL_NUMBER="CCCD:001234567890",
            ),
        ),
        organisation=make_leaf(
            ca,
            make_name(AGENCY, ORGANIZATION_NAME=AGENCY, ORGANIZATION_IDENTIFIER="000.00.00.H99"),
        ),
        tsa=make_leaf(ca, make_name("Demo TSA"), timestamping=True),
        stranger=make_leaf(other_ca, make_name("Trần Thị Bình", GIVEN_NAME="Thị Bình")),
    )


@pytest.fixture(scope="module")
async def signed(pki: Pki) -> bytes:
    return await sign(make_pdf(), pki.person, pki.ca, box=(100, 100, 300, 200))


async def check(data: bytes, pki: Pki) -> ValidationResult:
    return await validate_pdf(data, trust_roots=[pki.ca.cert])


async def test_a_good_signature_is_ok(pki: Pki, signed: bytes) -> None:
    result = await check(signed, pki)

    assert result.ok
    assert len(result.signatures) == 1
    (sig,) = result.signatures
    assert (sig.ok, sig.intact, sig.valid, sig.trusted) == (True, True, True, True)
    assert sig.coverage == "ENTIRE_FILE"
    assert sig.modification_level == "NONE"
    assert sig.docmdp_ok
    assert sig.summary == "INTACT:TRUSTED,UNTOUCHED"
    assert sig.field_name == "Sig1"
    assert sig.error == "" and sig.trust_problem == "" and not sig.trailing_data
    assert sig.level is PadesLevel.B_B and not sig.has_timestamp
    assert sig.signer is not None
    assert sig.signer.subject.startswith("CN=Nguyễn Văn An, ")
    assert "O=Ủy ban nhân dân tỉnh Demo" in sig.signer.subject
    assert sig.signer.serial_number == format(pki.person.cert.serial_number, "x").zfill(
        len(sig.signer.serial_number)
    )
    assert sig.signer.sha256 == pki.person.cert.fingerprint(hashes.SHA256()).hex()
    assert sig.signer.not_after == pki.person.cert.not_valid_after_utc
    assert sig.signing_time is not None and sig.signing_time.tzinfo is not None
    assert abs(datetime.now(UTC) - sig.signing_time) < timedelta(minutes=10)
    assert [c.sha256 for c in sig.chain] == [
        pki.person.cert.fingerprint(hashes.SHA256()).hex(),
        pki.ca.cert.fingerprint(hashes.SHA256()).hex(),
    ]
    assert not sig.organisation
    assert len(result.file_sha256) == 64 and result.file_size == len(signed)


async def test_the_visible_signature_box_and_page_are_reported(pki: Pki, signed: bytes) -> None:
    (sig,) = (await check(signed, pki)).signatures

    assert sig.box == (100.0, 100.0, 300.0, 200.0)
    assert sig.page == 0


async def test_an_invisible_signature_has_no_box(pki: Pki) -> None:
    data = await sign(make_pdf(), pki.person, pki.ca)

    (sig,) = (await check(data, pki)).signatures

    assert sig.ok
    assert (sig.box, sig.page) == (None, None)


async def test_an_organisation_certificate_is_recognised(pki: Pki) -> None:
    data = await sign(make_pdf(), pki.organisation, pki.ca)

    (sig,) = (await check(data, pki)).signatures

    assert sig.ok and sig.organisation
    assert sig.signer is not None
    assert "organizationIdentifier=000.00.00.H99" in sig.signer.subject


async def test_two_signatures_are_both_ok(pki: Pki, signed: bytes) -> None:
    twice = await sign(signed, pki.organisation, pki.ca, field="Sig2")

    result = await check(twice, pki)

    assert result.ok
    first, second = result.signatures
    assert (first.field_name, second.field_name) == ("Sig1", "Sig2")
    assert first.ok and second.ok
    assert first.coverage == "ENTIRE_REVISION"
    assert first.modification_level == "FORM_FILLING"
    assert second.coverage == "ENTIRE_FILE"
    assert (first.organisation, second.organisation) == (False, True)


async def test_a_byte_flipped_in_the_signed_range_breaks_the_signature(
    pki: Pki, signed: bytes
) -> None:
    position = signed.index(b"Quy")  # in the page's content stream, before the signature
    tampered = signed[:position] + b"X" + signed[position + 1 :]

    result = await check(tampered, pki)

    assert not result.ok
    (sig,) = result.signatures
    assert not sig.intact
    assert not sig.ok
    assert not sig.trusted
    assert sig.trust_problem == "HASH_FAILURE"


async def test_page_content_added_after_signing_is_a_suspicious_modification(
    pki: Pki, signed: bytes
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    forged = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 600 Td (Da huy) Tj ET")
    )
    writer.add_stream_to_page(0, forged)
    out = io.BytesIO()
    writer.write(out)

    result = await check(out.getvalue(), pki)

    assert not result.ok
    (sig,) = result.signatures
    assert sig.intact and sig.valid and sig.trusted  # the signed revision itself is untouched
    assert sig.coverage == "ENTIRE_REVISION"
    assert sig.modification_level == "OTHER"
    assert not sig.docmdp_ok
    assert not sig.ok


async def test_a_signer_from_an_unknown_ca_is_intact_but_not_trusted(pki: Pki) -> None:
    data = await sign(make_pdf(), pki.stranger, make_ca("Unknown CA"))

    result = await check(data, pki)

    assert not result.ok
    (sig,) = result.signatures
    assert sig.intact and sig.valid
    assert not sig.trusted
    assert "CHAIN" in sig.trust_problem
    assert sig.chain == ()
    assert not sig.ok


@pytest.mark.parametrize("junk", [b"junk after the end\n", b"\x00garbage" * 400])
async def test_bytes_after_the_last_eof_are_trailing_data(
    pki: Pki, signed: bytes, junk: bytes
) -> None:
    result = await check(signed + junk, pki)

    assert not result.ok
    (sig,) = result.signatures
    assert sig.trailing_data
    assert sig.intact and sig.trusted  # the signature itself holds, what follows it does not
    assert not sig.ok
    assert result.file_size == len(signed) + len(junk)


async def test_appended_data_dressed_up_as_an_end_of_file_is_trailing_data(
    pki: Pki, signed: bytes
) -> None:
    # The reader takes the last startxref in the file, which points where the real one does.
    last_startxref = signed[signed.rindex(b"startxref") :].split()[1]
    forged = signed + b"% added later\nstartxref\n" + last_startxref + b"\n%%EOF\n"

    (sig,) = (await check(forged, pki)).signatures

    assert sig.trailing_data
    assert not sig.ok


async def test_white_space_after_the_last_eof_is_not_trailing_data(pki: Pki, signed: bytes) -> None:
    result = await check(signed + b"\r\n\n  ", pki)

    (sig,) = result.signatures
    assert not sig.trailing_data


async def test_a_damaged_signature_is_reported_never_raised(pki: Pki, signed: bytes) -> None:
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    # Damage the start of the CMS (its structure) and the signer info further in.
    damaged = bytearray(signed)
    for offset in (0, 1, 2, 3, 40, 41, 300, 301, 302, 303, 2200, 2201, 2202):
        damaged[start + offset] = ord("f") if damaged[start + offset] != ord("f") else ord("0")

    result = await check(bytes(damaged), pki)

    assert not result.ok
    (sig,) = result.signatures
    assert not sig.ok
    assert sig.error or not (sig.intact and sig.valid)


@pytest.mark.parametrize("hex_offset", range(0, 3000, 97))
async def test_no_damage_to_the_cms_escapes_as_an_exception(
    pki: Pki, signed: bytes, hex_offset: int
) -> None:
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    damaged = bytearray(signed)
    damaged[start + hex_offset] = ord("a") if damaged[start + hex_offset] != ord("a") else ord("b")

    result = await check(bytes(damaged), pki)

    (sig,) = result.signatures
    # Some bytes of the CMS are not signed (embedded certificates, padding): those may stay ok.
    assert sig.ok == (sig.intact and sig.valid and sig.trusted and not sig.error)
    if sig.error:
        assert not sig.ok and sig.level is None


async def test_a_signature_with_a_timestamp_is_b_t(pki: Pki) -> None:
    data = await sign(make_pdf(), pki.person, pki.ca, tsa=pki.tsa)

    (sig,) = (await check(data, pki)).signatures

    assert sig.ok
    assert sig.level is PadesLevel.B_T
    assert sig.has_timestamp and sig.timestamp_valid
    assert sig.timestamp_time is not None
    assert abs(datetime.now(UTC) - sig.timestamp_time) < timedelta(minutes=10)


async def test_validation_data_in_the_document_is_b_lt(pki: Pki) -> None:
    data = await sign(make_pdf(), pki.person, pki.ca, tsa=pki.tsa, validation_info=True)

    (sig,) = (await check(data, pki)).signatures

    assert sig.ok
    assert sig.level is PadesLevel.B_LT


async def test_a_document_timestamp_after_the_signature_is_b_lta(pki: Pki) -> None:
    data = await sign(make_pdf(), pki.person, pki.ca, tsa=pki.tsa, archival=True)

    result = await check(data, pki)

    # The document timestamp is nobody's signature: it is not listed, it raises the level.
    (sig,) = result.signatures
    assert result.ok
    assert sig.level is PadesLevel.B_LTA
    assert sig.coverage == "ENTIRE_REVISION"
    assert sig.modification_level == "LTA_UPDATES"


async def test_garbage_is_not_a_pdf() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        await validate_pdf(b"this is not a PDF at all" * 50, trust_roots=[])

    assert raised.value.reason == "INVALID_PDF"
    assert "Traceback" not in raised.value.message


async def test_a_truncated_pdf_is_invalid(signed: bytes) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        await validate_pdf(signed[: len(signed) // 2], trust_roots=[])

    assert raised.value.reason == "INVALID_PDF"


async def test_an_encrypted_pdf_is_refused() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        await validate_pdf(make_pdf(encrypt="secret"), trust_roots=[])

    assert raised.value.reason == "ENCRYPTED_PDF"


async def test_a_pdf_without_signatures_is_not_ok(pki: Pki) -> None:
    result = await check(make_pdf(), pki)

    assert result.signatures == ()
    assert not result.ok


async def test_expected_failures_log_no_traceback(
    pki: Pki, signed: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    data = await sign(make_pdf(), pki.stranger, make_ca("Unknown CA"))
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=b"")))
    modified = io.BytesIO()
    writer.write(modified)

    with caplog.at_level(logging.DEBUG):
        await check(data, pki)
        await check(modified.getvalue(), pki)

    noisy = [r for r in caplog.records if r.name.startswith("pyhanko")]
    assert noisy, "pyHanko said nothing: the filter is not exercised"
    assert all(r.exc_info is None for r in noisy)
    assert all(r.levelno < logging.WARNING for r in noisy)


async def test_errors_outside_validation_are_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(InvalidArgumentError):  # installs the filter
        await validate_pdf(b"%PDF-1.7 broken", trust_roots=[])
    logger = logging.getLogger("pyhanko.sign.validation.generic_cms")

    with caplog.at_level(logging.DEBUG):
        try:
            raise ValueError("boom")
        except ValueError as exc:
            logger.error("Processing error in validation process", exc_info=exc)

    (record,) = [r for r in caplog.records if r.name == logger.name]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
