"""The timestamping authority of PAdES B-T (ADR 0011, 3).

Production names an RFC 3161 TSA by URL. The embedded default runs its own, in-process: pyHanko's
RFC 3161 responder (`DummyTimeStamper`), with its signing done by a key in the token (label
`agency-tsa`) certified by the agency CA for timestamping only. pyHanko's own responder would
read a software key from its DER on every timestamp (about 0.2 s for RSA-3072); the token signs
in a few milliseconds, and no key is ever in a file.
"""

from __future__ import annotations

from datetime import datetime

from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from vanban.signing.adapters.ca import as_asn1
from vanban.signing.adapters.token import Token

TSA_KEY_LABEL = "agency-tsa"


class TokenTimeStamper(DummyTimeStamper):
    """pyHanko's in-process RFC 3161 responder, signing with a key in the token."""

    def __init__(
        self,
        *,
        token: Token,
        certificate: x509.Certificate,
        chain: tuple[x509.Certificate, ...],
    ) -> None:
        super().__init__(
            tsa_cert=as_asn1(certificate),
            tsa_key=None,  # type: ignore[arg-type]  # the token signs: see _sign_tst_info
            certs_to_embed=SimpleCertificateStore.from_certs([as_asn1(c) for c in chain]),
        )
        self._token = token
        # The same for every timestamp: made once, and kept as parsed bytes (asn1crypto then
        # writes it out as it is instead of encoding the certificate's names again each time).
        self._signing_certificate = cms.CMSAttribute.load(
            simple_cms_attribute(
                "signing_certificate", general.as_signing_certificate(self.tsa_cert)
            ).dump()
        )

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        # As pyHanko's (dummy_client.py), but the signature is made in the token.
        digest = general.get_pyca_cryptography_hash(md_algorithm)
        md = hashes.Hash(digest)
        md.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                self._signing_certificate,
                simple_cms_attribute("message_digest", md.finalize()),
            ]
        )
        signature = self._token.sign(
            TSA_KEY_LABEL, signed_attrs.dump(), hash_name=md_algorithm.lower()
        )
        return signature, signed_attrs


def remote_tsa(url: str) -> TimeStamper:
    return HTTPTimeStamper(url)
