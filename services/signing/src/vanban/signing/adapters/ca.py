"""The agency's development CA, whose key is in the token (ADR 0011, 2).

`cryptography` signs certificates only with software keys, so each certificate is built with a
throwaway software key of the CA key's type (which puts the right algorithm in the to-be-signed
part), that part is signed in the token, and the certificate is put together again with
asn1crypto.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vanban.signing.adapters.token import PublicKey, Token
from vanban.signing.domain.certificates import der

CA_KEY_LABEL = "agency-ca"
ORGANISATION_KEY_LABEL = "agency-organisation"
CA_YEARS = 10
LEAF_YEARS = 3


def as_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    """The certificate as pyHanko's asn1crypto takes it."""
    return asn1_x509.Certificate.load(der(certificate))


def person_key_label(person_id: str) -> str:
    return f"person-{person_id}"


@functools.cache
def _throwaway_rsa() -> rsa.RSAPrivateKey:
    # Only its algorithm identifier ends up in certificates; its signature is replaced.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes if value])


class DevelopmentCa:
    """Issues the agency's certificates with the CA key `agency-ca` in the token."""

    def __init__(self, token: Token, root: x509.Certificate) -> None:
        self.token = token
        self.root = root

    @classmethod
    def create(cls, token: Token, *, agency_name: str, agency_code: str) -> DevelopmentCa:
        """A new CA key in the token and its self-signed root."""
        public = token.generate_rsa(CA_KEY_LABEL)
        subject = _name(
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.ORGANIZATION_NAME, agency_name),
            (NameOID.ORGANIZATION_IDENTIFIER, agency_code),
            (NameOID.COMMON_NAME, f"{agency_name} - CA (development)"),
        )
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )
        root = _sign_on_token(token, builder)
        token.store_certificate(CA_KEY_LABEL, root)
        return cls(token, root)

    def issue(
        self,
        public: PublicKey,
        subject: x509.Name,
        *,
        timestamping: bool = False,
        years: int = LEAF_YEARS,
    ) -> x509.Certificate:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.root.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(min(now + timedelta(days=365 * years), self.root.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=not timestamping,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.root.public_key()  # type: ignore[arg-type]
                ),
                critical=False,
            )
        )
        if timestamping:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        return _sign_on_token(self.token, builder)

    def issue_person(
        self, public: PublicKey, *, full_name: str, person_id: str, agency_name: str
    ) -> x509.Certificate:
        # A Vietnamese name starts with the family name: Trần (SN) Văn An (GN).
        surname, _, given = full_name.strip().partition(" ")
        return self.issue(
            public,
            _name(
                (NameOID.COUNTRY_NAME, "VN"),
                (NameOID.ORGANIZATION_NAME, agency_name),
                (NameOID.SURNAME, surname),
                (NameOID.GIVEN_NAME, given),
                (NameOID.COMMON_NAME, full_name),
                (NameOID.SERIAL_NUMBER, person_id),
            ),
        )

    def issue_organisation(
        self, public: PublicKey, *, agency_name: str, agency_code: str
    ) -> x509.Certificate:
        return self.issue(
            public,
            _name(
                (NameOID.COUNTRY_NAME, "VN"),
                (NameOID.ORGANIZATION_NAME, agency_name),
                (NameOID.ORGANIZATION_IDENTIFIER, agency_code),
                (NameOID.COMMON_NAME, agency_name),
            ),
        )

    def issue_timestamping(self, public: PublicKey, *, agency_name: str) -> x509.Certificate:
        return self.issue(
            public,
            _name(
                (NameOID.COUNTRY_NAME, "VN"),
                (NameOID.ORGANIZATION_NAME, agency_name),
                (NameOID.COMMON_NAME, f"{agency_name} - TSA"),
            ),
            timestamping=True,
        )


def _sign_on_token(token: Token, builder: x509.CertificateBuilder) -> x509.Certificate:
    draft = builder.sign(_throwaway_rsa(), hashes.SHA256())
    tbs = asn1_x509.TbsCertificate.load(draft.tbs_certificate_bytes)
    der = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": tbs["signature"],
            "signature_value": token.sign(CA_KEY_LABEL, draft.tbs_certificate_bytes),
        }
    ).dump()
    return x509.load_der_x509_certificate(der)
