"""Enveloped XML signatures (XMLDSig) over whole documents, made with a key in the token and
checked against the agency's roots (ADR 0011; docs/notes/signing-research.md, 6).

Every XML that reaches this module may be hostile (an edXML package from another agency, an
upload): it is parsed only by the platform's `parse_xml` (`vanban.platform.xml`, shared with
the exchange service), which refuses any DOCTYPE before libxml2 reads it, so neither entity
expansion nor external entities are reachable.

signxml does the XMLDSig work. The certificate chain is checked here, not by signxml: signxml
falls back to the certifi bundle when it is not given a CA file, and it reports an expired
certificate only as a failed chain. The certificate found here is then handed to signxml as the
only key it may verify with.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import signxml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import verification
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)

from vanban.platform.errors import FailedPreconditionError, InvalidArgumentError
from vanban.platform.xml import hardened_parser, parse_xml

if TYPE_CHECKING:
    from vanban.signing.adapters.token import TokenKey

DS = "http://www.w3.org/2000/09/xmldsig#"
_NS = {"ds": DS}
# More certificates than a real chain has is an attempt to make chain building expensive.
MAX_KEY_INFO_CERTIFICATES = 8

_SIGNATURE_METHODS = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
    }
)
_DIGEST_ALGORITHMS = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)


@dataclass(frozen=True, slots=True)
class VerifiedXml:
    """A document whose enveloped signature holds: `signed_xml` is what the signature covers
    (exclusive-canonical, without the signature), the only bytes to read content from."""

    signer: x509.Certificate
    signed_xml: bytes


# Signing ------------------------------------------------------------------------------------


def sign_enveloped(
    xml: bytes,
    *,
    key: TokenKey,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    max_bytes: int,
) -> bytes:
    """`xml` with an enveloped signature over the whole document appended to its root element:
    RSA-SHA256 or ECDSA-SHA256 (by the key's type) over SHA-256 digests, exclusive c14n, and
    KeyInfo carrying `certificate` then `chain`. The key signs in the token."""
    root = parse_xml(xml, max_bytes=max_bytes)
    if root.tag == f"{{{DS}}}Signature" or root.find("ds:Signature", _NS) is not None:
        raise InvalidArgumentError(
            "the XML already carries an enveloped signature", reason="XML_ALREADY_SIGNED"
        )
    if root.find(".//ds:Signature[@Id='placeholder']", _NS) is not None:
        # signxml would put the signature there instead of under the root element.
        raise InvalidArgumentError(
            "the XML holds a signature placeholder", reason="XML_ALREADY_SIGNED"
        )
    public = key.public_key()
    if certificate.public_key() != public:
        raise FailedPreconditionError(
            f"the certificate {certificate.subject.rfc4514_string()} is not for key {key.label!r}",
            reason="CERTIFICATE_KEY_MISMATCH",
        )
    if isinstance(public, rsa.RSAPublicKey):
        method = SignatureMethod.RSA_SHA256
    elif isinstance(public, ec.EllipticCurvePublicKey):
        method = SignatureMethod.ECDSA_SHA256
    else:  # pragma: no cover - the token makes RSA and EC keys only
        raise FailedPreconditionError(f"key {key.label!r} is neither RSA nor EC")
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(
        root,
        # signxml takes any object with a private key's face; the token's key has it.
        key=cast(Any, key),
        cert=[certificate, *chain],
    )
    return cast(bytes, etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


# Verification -------------------------------------------------------------------------------


def _invalid(message: str) -> FailedPreconditionError:
    return FailedPreconditionError(message, reason="INVALID_SIGNATURE")


def _untrusted(message: str) -> FailedPreconditionError:
    return FailedPreconditionError(message, reason="UNTRUSTED_CERTIFICATE")


def _enveloped_signature(root: etree._Element) -> etree._Element:
    if root.tag == f"{{{DS}}}Signature":
        # An enveloping signature: signxml would verify the root itself.
        raise FailedPreconditionError(
            "the XML is a bare signature, not a signed document", reason="SIGNATURE_MISSING"
        )
    signatures = root.findall("ds:Signature", _NS)
    if not signatures:
        raise FailedPreconditionError(
            "the XML carries no enveloped signature under its root element",
            reason="SIGNATURE_MISSING",
        )
    if len(signatures) > 1:
        raise _invalid("the XML carries more than one signature under its root element")
    return signatures[0]


def _key_info_certificates(signature: etree._Element) -> list[x509.Certificate]:
    elements = signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS)
    if not elements:
        raise _untrusted("the signature carries no X.509 certificate")
    if len(elements) > MAX_KEY_INFO_CERTIFICATES:
        raise _untrusted(
            f"the signature carries {len(elements)} certificates, "
            f"more than the {MAX_KEY_INFO_CERTIFICATES} accepted"
        )
    certificates = []
    for element in elements:
        try:
            der = base64.b64decode("".join((element.text or "").split()), validate=True)
            certificates.append(x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError):
            raise _untrusted("a certificate in the signature cannot be read") from None
    return certificates


def _validate_key_usage(
    policy: verification.Policy, certificate: x509.Certificate, key_usage: x509.KeyUsage
) -> None:
    if not key_usage.digital_signature:
        raise ValueError("the certificate's KeyUsage does not allow digitalSignature")


def _chain_verifier(
    trust_roots: Sequence[x509.Certificate], at: datetime
) -> verification.ClientVerifier:
    # The signer needs KeyUsage digitalSignature (as signxml asks); the CA rules are Web PKI's.
    signer_policy = verification.ExtensionPolicy.permit_all().require_present(
        x509.KeyUsage, verification.Criticality.AGNOSTIC, _validate_key_usage
    )
    return (
        verification.PolicyBuilder()
        .store(verification.Store(list(trust_roots)))
        .time(at)
        .extension_policies(
            ee_policy=signer_policy, ca_policy=verification.ExtensionPolicy.webpki_defaults_ca()
        )
        .build_client_verifier()
    )


def _chains(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    trust_roots: Sequence[x509.Certificate],
    at: datetime,
) -> bool:
    try:
        _chain_verifier(trust_roots, at).verify(leaf, intermediates)
    except verification.VerificationError:
        return False
    return True


def _trusted_signer(
    certificates: list[x509.Certificate], trust_roots: Sequence[x509.Certificate], at: datetime
) -> x509.Certificate:
    """The first certificate of KeyInfo that chains to a trust root at `at` as a signer, the
    others serving as intermediates (XMLDSig gives KeyInfo no order). Only its key may then
    verify the signature."""
    candidates = [
        (leaf, certificates[:index] + certificates[index + 1 :])
        for index, leaf in enumerate(certificates)
    ]
    for leaf, intermediates in candidates:
        if _chains(leaf, intermediates, trust_roots, at):
            return leaf
    # Would a chain hold inside the signer's validity? Then only the time is wrong.
    for leaf, intermediates in candidates:
        subject = leaf.subject.rfc4514_string()
        if at > leaf.not_valid_after_utc and _chains(
            leaf, intermediates, trust_roots, leaf.not_valid_after_utc
        ):
            raise FailedPreconditionError(
                f"the signer's certificate {subject} expired at "
                f"{leaf.not_valid_after_utc.isoformat()}",
                reason="CERTIFICATE_EXPIRED",
            )
        if at < leaf.not_valid_before_utc and _chains(
            leaf, intermediates, trust_roots, leaf.not_valid_before_utc
        ):
            raise FailedPreconditionError(
                f"the signer's certificate {subject} is valid only from "
                f"{leaf.not_valid_before_utc.isoformat()}",
                reason="CERTIFICATE_NOT_YET_VALID",
            )
    raise _untrusted(
        f"the signer's certificate {certificates[0].subject.rfc4514_string()} "
        "does not chain to a trusted root"
    )


def _covers_whole_document(root: etree._Element, reference: etree._Element | None) -> bool:
    if reference is None:
        return False
    uri = reference.get("URI")
    if uri == "":
        return True
    if uri is None or not uri.startswith("#"):
        return False
    # signxml resolves "#x" through any of these attributes: the root must be the only match.
    matches = root.xpath(
        "//*[@*[local-name()='Id' or local-name()='ID' or local-name()='id'] = $value]",
        value=uri[1:],
    )
    return isinstance(matches, list) and len(matches) == 1 and matches[0] is root


def verify_enveloped(
    xml: bytes, *, trust_roots: Sequence[x509.Certificate], max_bytes: int
) -> VerifiedXml:
    """Checks the enveloped signature under the root element of `xml` against `trust_roots`
    (the agency's roots, never a public bundle) at the current time; it must cover the whole
    document. Failures are FailedPreconditionError with reason SIGNATURE_MISSING,
    INVALID_SIGNATURE, UNTRUSTED_CERTIFICATE, CERTIFICATE_EXPIRED or CERTIFICATE_NOT_YET_VALID;
    input that `parse_xml` refuses is InvalidArgumentError."""
    if not trust_roots:
        raise ValueError("at least one trust root is required")
    root = parse_xml(xml, max_bytes=max_bytes)
    signature = _enveloped_signature(root)
    now = datetime.now(UTC)
    signer = _trusted_signer(_key_info_certificates(signature), trust_roots, now)
    config = SignatureConfiguration(
        location="./",
        expect_references=1,
        signature_methods=_SIGNATURE_METHODS,
        digest_algorithms=_DIGEST_ALGORITHMS,
        verification_time=now,
    )
    try:
        result = XMLVerifier().verify(
            root, x509_cert=signer, parser=hardened_parser(), expect_config=config
        )
    except signxml.InvalidCertificate as exc:
        # The signer chained a moment ago; signxml only checks its validity period again.
        raise _untrusted(f"the signer's certificate is refused: {exc}") from None
    except signxml.InvalidDigest:
        raise _invalid("the document was changed after it was signed") from None
    except signxml.InvalidSignature as exc:
        raise _invalid(f"the signature value does not hold: {exc}") from None
    except etree.DocumentInvalid as exc:
        raise _invalid(f"the signature element is not valid XMLDSig: {exc}") from None
    except (ValueError, TypeError) as exc:
        # signxml.InvalidInput, bad base64, an empty element: a signature that is not well made.
        raise _invalid(f"the signature cannot be checked: {exc}") from None
    if not isinstance(result, signxml.VerifyResult):  # pragma: no cover - expect_references=1
        raise _invalid("the signature must have exactly one reference")
    reference = result.signature_xml.find("ds:SignedInfo/ds:Reference", _NS)
    if not _covers_whole_document(root, reference):
        raise _invalid("the signature does not cover the whole document")
    return VerifiedXml(signer=signer, signed_xml=result.signed_data)
