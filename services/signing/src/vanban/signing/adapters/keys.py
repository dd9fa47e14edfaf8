"""Keys in the token, certificates in the database (ADR 0011, 1 and 2).

At start the agency CA and the organisation key exist (made on the first start of an agency);
a leader's key and certificate are made the first time they sign. A certificate of the
development CA that expired is renewed for the same key; an imported one is not (its CA must
issue a new one, then it is imported again).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pkcs11 import Attribute, ObjectClass
from sqlalchemy.ext.asyncio import AsyncEngine

from vanban.platform.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from vanban.signing.adapters.ca import (
    CA_KEY_LABEL,
    ORGANISATION_KEY_LABEL,
    DevelopmentCa,
    person_key_label,
)
from vanban.signing.adapters.db.tables import certificates
from vanban.signing.adapters.pades import KeyHolder
from vanban.signing.adapters.token import Token
from vanban.signing.adapters.trust import TrustDirectory
from vanban.signing.adapters.tsa import TSA_KEY_LABEL
from vanban.signing.domain.certificates import (
    Role,
    StoredCertificate,
    choose,
    fingerprint,
    is_ca,
)

IMPORT_MAX_BYTES = 1024 * 1024
HOLDER_SECONDS = 10.0
IMPORT_MAX_CERTIFICATES = 20
# One start at a time makes the CA and the organisation key (replicas share the token).
_START_LOCK = 0x7661_6E62_616E_01


def _row_to_stored(row: sa.Row[tuple[object, ...]]) -> StoredCertificate:
    m = row._mapping
    return StoredCertificate(
        id=m["id"],
        role=Role(m["role"]),
        certificate=x509.load_der_x509_certificate(m["der"]),
        key_label=m["key_label"],
        person_id=m["person_id"],
        imported=m["imported"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
        revocation_reason=m["revocation_reason"],
    )


def _values(stored: StoredCertificate) -> dict[str, object]:
    c = stored.certificate
    return {
        "id": stored.id,
        "role": stored.role.value,
        "sha256": stored.sha256,
        "der": c.public_bytes(serialization.Encoding.DER),
        "subject": c.subject.rfc4514_string()[:1000],
        "issuer": c.issuer.rfc4514_string()[:1000],
        "serial_number": format(c.serial_number, "x")[:80],
        "not_before": c.not_valid_before_utc,
        "not_after": c.not_valid_after_utc,
        "key_label": stored.key_label,
        "person_id": stored.person_id,
        "imported": stored.imported,
        "revoked_at": stored.revoked_at,
        "revocation_reason": stored.revocation_reason,
        "created_at": stored.created_at,
    }


class KeyStore:
    def __init__(
        self,
        *,
        token: Token,
        engine: Callable[[], AsyncEngine],
        agency_name: str,
        agency_code: str,
        trust_directory: TrustDirectory | None = None,
    ) -> None:
        self.token = token
        self._trust_directory = trust_directory
        self._engine = engine
        self.agency_name = agency_name
        self.agency_code = agency_code
        self._ca: DevelopmentCa | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        # The certificate each key signs with, kept HOLDER_SECONDS (a revocation or an import on
        # another replica counts here that much later; on this one at once).
        self._holders: dict[str, tuple[KeyHolder, float, StoredCertificate]] = {}

    @property
    def ca(self) -> DevelopmentCa:
        if self._ca is None:
            raise RuntimeError("the key store has not started")
        return self._ca

    async def start(self) -> None:
        """The CA and the organisation key and certificate, made when missing."""
        async with self._engine().begin() as conn:
            await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_START_LOCK)))
            rows = (
                await conn.execute(
                    sa.select(certificates).where(certificates.c.key_label == CA_KEY_LABEL)
                )
            ).all()
            if rows:
                root = _row_to_stored(rows[0]).certificate
                self._ca = DevelopmentCa(self.token, root)
            else:
                root_from_token = self._certificate_in_token(CA_KEY_LABEL)
                if root_from_token is not None and self.token.has_key(CA_KEY_LABEL):
                    self._ca = DevelopmentCa(self.token, root_from_token)
                else:
                    self._ca = await asyncio.to_thread(
                        DevelopmentCa.create,
                        self.token,
                        agency_name=self.agency_name,
                        agency_code=self.agency_code,
                    )
                await conn.execute(
                    sa.insert(certificates).values(
                        _values(self._new(Role.TRUST_ROOT, self._ca.root, CA_KEY_LABEL))
                    )
                )
        await self.organisation()

    def _certificate_in_token(self, label: str) -> x509.Certificate | None:
        for obj in self.token.session.get_objects(
            {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label}
        ):
            return x509.load_der_x509_certificate(bytes(obj[Attribute.VALUE]))
        return None

    @staticmethod
    def _new(
        role: Role,
        certificate: x509.Certificate,
        key_label: str | None,
        *,
        person_id: str | None = None,
        imported: bool = False,
    ) -> StoredCertificate:
        return StoredCertificate(
            id=str(uuid.uuid4()),
            role=role,
            certificate=certificate,
            key_label=key_label,
            person_id=person_id,
            imported=imported,
            created_at=datetime.now(UTC),
        )

    async def _of_key(self, label: str) -> list[StoredCertificate]:
        async with self._engine().connect() as conn:
            rows = (
                await conn.execute(sa.select(certificates).where(certificates.c.key_label == label))
            ).all()
        return [_row_to_stored(r) for r in rows]

    def _lock(self, label: str) -> asyncio.Lock:
        return self._locks.setdefault(label, asyncio.Lock())

    async def _holder(
        self,
        label: str,
        role: Role,
        issue: Callable[[], x509.Certificate],
        *,
        person_id: str | None = None,
    ) -> KeyHolder:
        """The usable certificate of key `label` with its chain; the key and a development
        certificate are made when there is none (the first signature, or the last expired)."""
        now = datetime.now(UTC)
        cached = self._holders.get(label)
        if (
            cached is not None
            and cached[1] > time.monotonic()
            and cached[2].status(now).value == "valid"
        ):
            return cached[0]
        async with self._lock(label):
            found = choose(await self._of_key(label), now)
            if found is None:
                found = await self._make(label, role, issue, person_id=person_id, now=now)
        found.require_usable(now)
        holder = KeyHolder(
            label=label,
            certificate=found.certificate,
            chain=await self._chain(found.certificate),
        )
        self._holders[label] = (holder, time.monotonic() + HOLDER_SECONDS, found)
        return holder

    def record_of(self, holder: KeyHolder) -> StoredCertificate | None:
        """The stored certificate a holder just returned signs with (no query)."""
        cached = self._holders.get(holder.label)
        return cached[2] if cached is not None and cached[0] is holder else None

    def forget(self) -> None:
        """After an import or a revocation here: every certificate is read again."""
        self._holders.clear()

    async def _make(
        self,
        label: str,
        role: Role,
        issue: Callable[[], x509.Certificate],
        *,
        person_id: str | None,
        now: datetime,
    ) -> StoredCertificate:
        """A key (when the token has none) and a development certificate, under a lock per
        label that every replica takes: two replicas never make two keys of one name."""
        async with self._engine().begin() as conn:
            await conn.execute(
                sa.select(
                    sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(f"key:{label}", 0))
                )
            )
            rows = (
                await conn.execute(sa.select(certificates).where(certificates.c.key_label == label))
            ).all()
            known = [_row_to_stored(r) for r in rows]
            found = choose(known, now)
            if found is not None:
                return found  # another replica made it meanwhile
            imported = [c for c in known if c.imported]
            if imported:
                # A real CA's certificate is renewed by that CA and imported again; the
                # development CA never stands in for it.
                latest = max(imported, key=lambda c: c.created_at)
                latest.require_usable(now)
            if not self.token.has_key(label):
                await asyncio.to_thread(self.token.generate_rsa, label)
            certificate = await asyncio.to_thread(issue)
            made = self._new(role, certificate, label, person_id=person_id)
            await conn.execute(sa.insert(certificates).values(_values(made)))
            return made

    async def _chain(self, certificate: x509.Certificate) -> tuple[x509.Certificate, ...]:
        pool = await self.trust_roots()
        chain: list[x509.Certificate] = []
        current = certificate
        while current.issuer != current.subject and len(chain) < 5:
            issuer = next((c for c in pool if c.subject == current.issuer), None)
            if issuer is None:
                break
            chain.append(issuer)
            current = issuer
        return tuple(chain)

    async def organisation(self) -> KeyHolder:
        return await self._holder(
            ORGANISATION_KEY_LABEL,
            Role.ORGANISATION,
            lambda: self.ca.issue_organisation(
                self.token.public_key(ORGANISATION_KEY_LABEL),
                agency_name=self.agency_name,
                agency_code=self.agency_code,
            ),
        )

    async def timestamping(self) -> KeyHolder:
        """The local TSA's key and certificate (the embedded default's B-T timestamps)."""
        return await self._holder(
            TSA_KEY_LABEL,
            Role.TIMESTAMPING,
            lambda: self.ca.issue_timestamping(
                self.token.public_key(TSA_KEY_LABEL), agency_name=self.agency_name
            ),
        )

    async def person(self, person_id: str, *, full_name: str) -> KeyHolder:
        label = person_key_label(person_id)
        return await self._holder(
            label,
            Role.PERSON,
            lambda: self.ca.issue_person(
                self.token.public_key(label),
                full_name=full_name,
                person_id=person_id,
                agency_name=self.agency_name,
            ),
            person_id=person_id,
        )

    async def trust_roots(self) -> list[x509.Certificate]:
        now = datetime.now(UTC)
        async with self._engine().connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(certificates).where(certificates.c.role == Role.TRUST_ROOT.value)
                )
            ).all()
        stored = [
            s.certificate
            for s in map(_row_to_stored, rows)
            if s.revoked_at is None or s.revoked_at > now
        ]
        if self._trust_directory is None:
            return stored
        known = {c.fingerprint(hashes.SHA256()) for c in stored}
        extra = [
            c
            for c in await asyncio.to_thread(self._trust_directory.roots)
            if c.fingerprint(hashes.SHA256()) not in known
        ]
        return stored + extra

    async def all(self) -> list[StoredCertificate]:
        async with self._engine().connect() as conn:
            rows = (
                await conn.execute(sa.select(certificates).order_by(certificates.c.created_at))
            ).all()
        return [_row_to_stored(r) for r in rows]

    async def revoke(self, certificate_id: str, *, reason: str) -> StoredCertificate:
        """Revokes a certificate of the agency's own keys: its key is retired in the token (kept
        under another name), so nothing signs with it again; the next signature of its holder
        makes a new key and certificate. Trust roots are revoked without touching a key."""
        reason = reason.strip()
        if not reason or len(reason) > 500 or not reason.isprintable():
            raise InvalidArgumentError(
                "a reason of 1 to 500 printable characters is required",
                reason="INVALID_REVOCATION_REASON",
            )
        try:
            uuid.UUID(certificate_id)
        except ValueError:
            raise NotFoundError(
                "no certificate with this id", reason="CERTIFICATE_NOT_FOUND"
            ) from None
        now = datetime.now(UTC)
        async with self._engine().begin() as conn:
            row = (
                await conn.execute(
                    sa.select(certificates)
                    .where(certificates.c.id == certificate_id)
                    .with_for_update()
                )
            ).first()
            if row is None:
                raise NotFoundError("no certificate with this id", reason="CERTIFICATE_NOT_FOUND")
            stored = _row_to_stored(row)
            if stored.revoked_at is not None:
                raise FailedPreconditionError(
                    "the certificate is revoked already", reason="CERTIFICATE_REVOKED"
                )
            if stored.key_label in (CA_KEY_LABEL, TSA_KEY_LABEL):
                raise FailedPreconditionError(
                    "the agency CA and the timestamping certificate are not revoked here",
                    reason="CERTIFICATE_NOT_REVOCABLE",
                )
            label = stored.key_label
            retired = f"{label}-retired-{now:%Y%m%d%H%M%S}" if label else None
            await conn.execute(
                sa.update(certificates)
                .where(certificates.c.id == certificate_id)
                .values(revoked_at=now, revocation_reason=reason)
            )
            if label is not None:
                # Every certificate of the retired key follows it: none is chosen for the name.
                await conn.execute(
                    sa.update(certificates)
                    .where(certificates.c.key_label == label)
                    .values(key_label=retired)
                )
                async with self._lock(label):
                    await asyncio.to_thread(self.token.retire, label, as_label=str(retired))
        self.forget()
        return dataclasses.replace(
            stored, revoked_at=now, revocation_reason=reason, key_label=retired
        )

    async def import_certificates(self, data: bytes, password: str) -> list[StoredCertificate]:
        """A real CA's chain: CA certificates become trust roots; an end-entity certificate is
        bound to the token's key with the same public key (the organisation's or a leader's),
        and refused when the token has none. A file carrying a private key is refused: keys
        are made in the token, never imported from a file."""
        parsed = parse_certificates(data, password)
        now = datetime.now(UTC)
        for certificate in parsed:
            if not certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc:
                raise InvalidArgumentError(
                    f"{certificate.subject.rfc4514_string()} is not valid now (valid "
                    f"{certificate.not_valid_before_utc:%Y-%m-%d} to "
                    f"{certificate.not_valid_after_utc:%Y-%m-%d}); nothing was imported",
                    reason="CERTIFICATE_NOT_VALID_NOW",
                )
        roots = [c for c in parsed if is_ca(c)] + await self.trust_roots()
        for certificate in parsed:
            if not is_ca(certificate) and not _issued_by_one_of(certificate, roots):
                raise InvalidArgumentError(
                    f"{certificate.subject.rfc4514_string()} is not issued by a trusted CA (import "
                    "its CA's chain with it); nothing was imported",
                    reason="CERTIFICATE_UNTRUSTED",
                )
        labels = self._key_labels()
        made: list[StoredCertificate] = []
        known = {s.sha256 for s in await self.all()}
        for certificate in parsed:
            if fingerprint(certificate) in known:
                continue
            if is_ca(certificate):
                stored = self._new(Role.TRUST_ROOT, certificate, None, imported=True)
            else:
                label = self._label_of(certificate, labels)
                if label is None:
                    raise FailedPreconditionError(
                        f"no key in the token matches {certificate.subject.rfc4514_string()}",
                        reason="CERTIFICATE_WITHOUT_KEY",
                    )
                if label == ORGANISATION_KEY_LABEL:
                    stored = self._new(Role.ORGANISATION, certificate, label, imported=True)
                else:
                    person = label.removeprefix("person-")
                    stored = self._new(
                        Role.PERSON, certificate, label, person_id=person, imported=True
                    )
            made.append(stored)
            known.add(stored.sha256)
        async with self._engine().begin() as conn:
            for stored in made:
                await conn.execute(sa.insert(certificates).values(_values(stored)))
        self.forget()
        return made

    def _key_labels(self) -> list[str]:
        return [
            str(key[Attribute.LABEL])
            for key in self.token.session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY})
        ]

    def _label_of(self, certificate: x509.Certificate, labels: Sequence[str]) -> str | None:
        wanted = certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        for label in labels:
            if label in (CA_KEY_LABEL, TSA_KEY_LABEL):
                continue
            public = self.token.public_key(label).public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            if public == wanted:
                return label
        return None


def _issued_by_one_of(certificate: x509.Certificate, issuers: Sequence[x509.Certificate]) -> bool:
    for issuer in issuers:
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def parse_certificates(data: bytes, password: str) -> list[x509.Certificate]:
    """PEM (one or more), DER or PKCS#12 (certificates only)."""
    if not data:
        raise InvalidArgumentError("the file is empty", reason="CERTIFICATE_FILE_EMPTY")
    if len(data) > IMPORT_MAX_BYTES:
        raise InvalidArgumentError(
            f"a certificate file is at most {IMPORT_MAX_BYTES} bytes",
            reason="CERTIFICATE_FILE_TOO_LARGE",
        )
    found: list[x509.Certificate] = []
    if b"-----BEGIN" in data:
        if b"PRIVATE KEY-----" in data:
            raise InvalidArgumentError(
                "the file carries a private key: keys are made in the token, never imported",
                reason="PRIVATE_KEY_REFUSED",
            )
        try:
            found = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"the PEM file cannot be read: {exc}", reason="INVALID_CERTIFICATE"
            ) from None
    else:
        try:
            found = [x509.load_der_x509_certificate(data)]
        except ValueError:
            try:
                key, certificate, extra = pkcs12.load_key_and_certificates(
                    data, password.encode() if password else None
                )
            except ValueError as exc:
                raise InvalidArgumentError(
                    f"the file is neither a certificate nor a PKCS#12 file, or its password is "
                    f"wrong: {exc}",
                    reason="INVALID_CERTIFICATE",
                ) from None
            if key is not None:
                raise InvalidArgumentError(  # noqa: B904 - the refusal is of the file, not an error
                    "the PKCS#12 file carries a private key: keys are made in the token, never "
                    "imported",
                    reason="PRIVATE_KEY_REFUSED",
                )
            found = [c for c in (certificate, *extra) if c is not None]
    if not found:
        raise InvalidArgumentError("the file holds no certificate", reason="INVALID_CERTIFICATE")
    if len(found) > IMPORT_MAX_CERTIFICATES:
        raise InvalidArgumentError(
            f"at most {IMPORT_MAX_CERTIFICATES} certificates at a time",
            reason="TOO_MANY_CERTIFICATES",
        )
    return found
