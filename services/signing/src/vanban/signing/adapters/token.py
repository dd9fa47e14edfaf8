"""The PKCS#11 token that holds every private key of the agency (ADR 0011, 1 and 7).

One logged-in session is opened at start and kept for the life of the process: closing a
logged-in session logs every session of the process out, and opening one per request would cost
a login each time. Keys are made inside the token, sensitive and never extractable; what leaves
the token is public keys and signatures.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from asn1crypto import core as asn1_core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ecdsa_signature, encode_named_curve_parameters

from vanban.platform.errors import FailedPreconditionError, UnavailableError

# Keys the token must never let out, whatever its own defaults are.
NON_EXPORTABLE = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False}
RSA_BITS = 3072
_RSA_MECHANISMS = {
    "sha256": Mechanism.SHA256_RSA_PKCS,
    "sha384": Mechanism.SHA384_RSA_PKCS,
    "sha512": Mechanism.SHA512_RSA_PKCS,
}

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class TokenError(UnavailableError):
    """The token cannot be used: its module, the token, or the PIN."""


@dataclass(frozen=True, slots=True)
class TokenConfig:
    module: Path
    label: str
    pin: str


class Token:
    """The session to the agency's token. Thread-safe: python-pkcs11 serialises operations on
    a session and releases the GIL while the token works."""

    def __init__(self, config: TokenConfig) -> None:
        self.config = config
        self._lib: Any = None
        self._token: Any = None
        self._session: Any = None
        self._lock = threading.Lock()
        self._private: dict[str, Any] = {}

    @classmethod
    def open(cls, config: TokenConfig) -> Token:
        token = cls(config)
        token._login()
        return token

    def open_session(self) -> None:
        """Logs in (a service does it at start, not when it is built)."""
        if self._session is None:
            self._login()

    def _login(self) -> None:
        if not self.config.module.exists():
            raise TokenError(
                f"the PKCS#11 module {self.config.module} does not exist", reason="TOKEN_MODULE"
            )
        try:
            self._lib = pkcs11.lib(str(self.config.module))
            self._token = self._lib.get_token(token_label=self.config.label)
        except pkcs11.exceptions.NoSuchToken:
            raise TokenError(
                f"no token labelled {self.config.label!r} in {self.config.module}",
                reason="TOKEN_NOT_FOUND",
            ) from None
        except pkcs11.exceptions.MultipleTokensReturned:
            raise TokenError(
                f"more than one token is labelled {self.config.label!r}", reason="TOKEN_AMBIGUOUS"
            ) from None
        try:
            self._session = self._token.open(rw=True, user_pin=self.config.pin)
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            # Login is per process: another session of this process logged in already.
            self._session = self._token.open(rw=True)
        except (pkcs11.exceptions.PinIncorrect, pkcs11.exceptions.PinLenRange):
            raise TokenError(
                f"the PIN of token {self.config.label!r} is wrong", reason="TOKEN_PIN_INCORRECT"
            ) from None
        except pkcs11.exceptions.PinLocked:
            raise TokenError(
                f"the PIN of token {self.config.label!r} is locked", reason="TOKEN_PIN_LOCKED"
            ) from None
        self._private.clear()

    @property
    def session(self) -> Any:
        if self._session is None:
            raise TokenError("the token session is closed", reason="TOKEN_CLOSED")
        return self._session

    def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            session.close()

    def reopen(self) -> None:
        """After the token dropped the session (SessionHandleInvalid): log in again."""
        with self._lock:
            self.close()
            self._login()

    # Keys ---------------------------------------------------------------------------------

    def has_key(self, label: str) -> bool:
        try:
            self._private_key(label)
        except FailedPreconditionError:
            return False
        return True

    def generate_rsa(self, label: str, bits: int = RSA_BITS) -> rsa.RSAPublicKey:
        """A new key pair in the token under `label` (refused when one exists)."""
        if self.has_key(label):
            raise FailedPreconditionError(
                f"the token already holds a key {label!r}", reason="KEY_EXISTS"
            )
        key_id = hashlib.sha256(label.encode()).digest()[:16]
        self.session.generate_keypair(
            KeyType.RSA,
            bits,
            label=label,
            id=key_id,
            store=True,
            private_template=NON_EXPORTABLE,
        )
        public = self.public_key(label)
        assert isinstance(public, rsa.RSAPublicKey)
        return public

    def generate_ec(self, label: str) -> ec.EllipticCurvePublicKey:
        """A new P-256 key pair in the token under `label` (refused when one exists)."""
        if self.has_key(label):
            raise FailedPreconditionError(
                f"the token already holds a key {label!r}", reason="KEY_EXISTS"
            )
        parameters = self.session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        parameters.generate_keypair(
            label=label,
            id=hashlib.sha256(label.encode()).digest()[:16],
            store=True,
            private_template=NON_EXPORTABLE,
        )
        public = self.public_key(label)
        assert isinstance(public, ec.EllipticCurvePublicKey)
        return public

    def _private_key(self, label: str) -> Any:
        key = self._private.get(label)
        if key is None:
            try:
                key = self.session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
            except pkcs11.exceptions.NoSuchKey:
                raise FailedPreconditionError(
                    f"the token holds no key {label!r}", reason="KEY_NOT_FOUND"
                ) from None
            self._private[label] = key
        return key

    def public_key(self, label: str) -> PublicKey:
        try:
            pub = self.session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=label)
        except pkcs11.exceptions.NoSuchKey:
            raise FailedPreconditionError(
                f"the token holds no key {label!r}", reason="KEY_NOT_FOUND"
            ) from None
        if pub.key_type == KeyType.RSA:
            return rsa.RSAPublicNumbers(
                int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big"),
                int.from_bytes(pub[Attribute.MODULUS], "big"),
            ).public_key()
        point = asn1_core.OctetString.load(pub[Attribute.EC_POINT]).native
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)

    def private_key_handle(self, label: str) -> Any:
        """The token's object (for the tests that try to get the key out, and pyHanko)."""
        return self._private_key(label)

    def sign(self, label: str, data: bytes, *, hash_name: str = "sha256") -> bytes:
        """`data` signed by the key `label`: PKCS#1 v1.5 for RSA, DER ECDSA for EC (hashed
        here: SoftHSM 2.6 has no CKM_ECDSA_SHA256)."""
        key = self._private_key(label)
        if key.key_type == KeyType.RSA:
            return bytes(key.sign(data, mechanism=_RSA_MECHANISMS[hash_name]))
        digest = hashlib.new(hash_name, data).digest()
        return bytes(encode_ecdsa_signature(key.sign(digest, mechanism=Mechanism.ECDSA)))

    def key(self, label: str) -> TokenKey:
        return TokenKey(self, label, self.public_key(label))

    def retire(self, label: str, *, as_label: str) -> None:
        """Renames the key pair (and certificate) `label` to `as_label`: kept in the token, never
        found under its old name again, so that a new key can take it."""
        with self._lock:
            for obj in self.session.get_objects({Attribute.LABEL: label}):
                obj[Attribute.LABEL] = as_label
            self._private.pop(label, None)

    # Certificates -------------------------------------------------------------------------

    def store_certificate(self, label: str, certificate: x509.Certificate) -> None:
        """The certificate beside its key (same label and id), for tools that look it up there."""
        self.session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.LABEL: label,
                Attribute.ID: hashlib.sha256(label.encode()).digest()[:16],
                Attribute.SUBJECT: certificate.subject.public_bytes(),
                Attribute.ISSUER: certificate.issuer.public_bytes(),
                Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
            }
        )


class TokenKey:
    """A private key in the token with the face of a `cryptography` private key, as far as
    signxml and certificate signing need: `sign`, `public_key`, `key_size`."""

    def __init__(self, token: Token, label: str, public: PublicKey) -> None:
        self._token = token
        self.label = label
        self._public = public
        self.key_size = public.key_size

    def public_key(self) -> PublicKey:
        return self._public

    def sign(self, data: bytes, *args: Any, **kwargs: Any) -> bytes:
        algorithm = kwargs.get("algorithm") or kwargs.get("signature_algorithm")
        if algorithm is None:
            algorithm = args[-1] if args else None
        if isinstance(algorithm, ec.ECDSA):
            algorithm = algorithm.algorithm
        pad = kwargs.get("padding") or (args[0] if len(args) == 2 else None)
        if pad is not None and not isinstance(pad, padding.PKCS1v15):
            raise ValueError("only PKCS#1 v1.5 RSA signatures are made by the token")
        if not isinstance(algorithm, hashes.HashAlgorithm):
            raise ValueError("a hash algorithm is required")
        return self._token.sign(self.label, data, hash_name=algorithm.name)
