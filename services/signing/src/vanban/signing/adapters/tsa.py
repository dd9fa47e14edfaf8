"""The timestamping authority of PAdES B-T (ADR 0011, 3).

Production names an RFC 3161 TSA by URL. The embedded default runs its own: pyHanko's
`DummyTimeStamper`, a complete RFC 3161 responder in-process, with an RSA key made in memory at
each start (never written) and certified by the agency CA for timestamping only.
"""

from __future__ import annotations

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from vanban.signing.adapters.ca import DevelopmentCa


def _der(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def local_tsa(ca: DevelopmentCa, *, agency_name: str) -> tuple[TimeStamper, x509.Certificate]:
    """The in-process TSA and its certificate (for the trust list of timestamp validation)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    certificate = ca.issue_timestamping(key.public_key(), agency_name=agency_name)
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    stamper = DummyTimeStamper(
        tsa_cert=_der(certificate),
        tsa_key=key_info,
        certs_to_embed=SimpleCertificateStore.from_certs([_der(ca.root)]),
    )
    return stamper, certificate


def remote_tsa(url: str) -> TimeStamper:
    return HTTPTimeStamper(url)
