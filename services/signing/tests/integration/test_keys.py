"""Keys in the token, certificates in PostgreSQL: made once, imported with care, revoked for good."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from vanban.platform.errors import DomainError
from vanban.platform.migrations import upgrade_async
from vanban.signing.adapters.ca import ORGANISATION_KEY_LABEL
from vanban.signing.adapters.db.tables import certificates, metadata
from vanban.signing.adapters.keys import KeyStore
from vanban.signing.adapters.token import Token
from vanban.signing.app import MIGRATIONS
from vanban.signing.domain.certificates import Role, fingerprint


@pytest.fixture
async def engine(make_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    url = make_database(f"signing_{uuid.uuid4().hex[:8]}")
    await upgrade_async(url, MIGRATIONS)
    made = create_async_engine(url)
    yield made
    await made.dispose()


def store(token: Token, engine: AsyncEngine) -> KeyStore:
    return KeyStore(
        token=token,
        engine=lambda: engine,
        agency_name="Ủy ban nhân dân tỉnh Demo",
        agency_code="000.00.00.H99",
    )


async def rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(sa.select(certificates))).all())


async def test_the_migrations_build_the_tables_the_code_declares(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[Any]:
        return compare_metadata(MigrationContext.configure(connection), metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_the_ca_and_the_organisation_are_made_once(token: Token, engine: AsyncEngine) -> None:
    first = store(token, engine)
    await first.start()
    again = store(token, engine)
    await again.start()
    made = await rows(engine)
    assert sorted(r.role for r in made) == ["organisation", "trust_root"]
    assert again.ca.root == first.ca.root
    organisation = await again.organisation()
    assert organisation.label == ORGANISATION_KEY_LABEL
    assert organisation.chain == (first.ca.root,)
    organisation.certificate.verify_directly_issued_by(first.ca.root)
    assert token.public_key(ORGANISATION_KEY_LABEL) == organisation.certificate.public_key()


async def test_a_leaders_key_is_made_on_first_use_once(token: Token, engine: AsyncEngine) -> None:
    keys = store(token, engine)
    await keys.start()
    person = str(uuid.uuid4())
    both = await asyncio.gather(
        keys.person(person, full_name="Trần Văn An"), keys.person(person, full_name="Trần Văn An")
    )
    assert both[0].certificate == both[1].certificate
    people = [r for r in await rows(engine) if r.role == "person"]
    assert [r.person_id for r in people] == [person]
    subject = both[0].certificate.subject
    assert subject.get_attributes_for_oid(NameOID.SURNAME)[0].value == "Trần"
    assert subject.get_attributes_for_oid(NameOID.GIVEN_NAME)[0].value == "Văn An"
    assert token.public_key(f"person-{person}") == both[0].certificate.public_key()


def _ca(name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _leaf(ca: tuple[rsa.RSAPrivateKey, x509.Certificate], public: Any) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "UBND tỉnh Demo")]))
        .issuer_name(ca[1].subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=300))
        .sign(ca[0], hashes.SHA256())
    )


def _pem(*items: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in items)


async def test_an_import_takes_certificates_never_keys(token: Token, engine: AsyncEngine) -> None:
    keys = store(token, engine)
    await keys.start()
    before = await rows(engine)
    real_ca = _ca("CA thật của Ban Cơ yếu")
    stranger = _leaf(
        real_ca, rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    )

    async def refused(data: bytes, password: str = "") -> str:
        with pytest.raises(DomainError) as caught:
            await keys.import_certificates(data, password)
        return caught.value.reason

    key_pem = real_ca[0].private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert await refused(_pem(real_ca[1]) + key_pem) == "PRIVATE_KEY_REFUSED"
    p12 = pkcs12.serialize_key_and_certificates(
        b"x", real_ca[0], real_ca[1], None, serialization.BestAvailableEncryption(b"pw")
    )
    assert await refused(p12, "pw") == "PRIVATE_KEY_REFUSED"
    # The CA first, then a certificate for a key the token does not hold: nothing is kept.
    assert await refused(_pem(real_ca[1], stranger)) == "CERTIFICATE_WITHOUT_KEY"
    assert await refused(b"not a certificate") == "INVALID_CERTIFICATE"
    assert await refused(b"") == "CERTIFICATE_FILE_EMPTY"
    assert len(await rows(engine)) == len(before)

    # The real CA's chain with a certificate for the agency's own token key.
    bound = _leaf(real_ca, token.public_key(ORGANISATION_KEY_LABEL))
    made = await keys.import_certificates(_pem(real_ca[1], bound), "")
    assert [(m.role, m.imported) for m in made] == [
        (Role.TRUST_ROOT, True),
        (Role.ORGANISATION, True),
    ]
    assert real_ca[1] in await keys.trust_roots()
    # The real CA's certificate is the one the agency signs with from now on.
    assert fingerprint((await keys.organisation()).certificate) == fingerprint(bound)
    # Imported again: nothing new.
    assert await keys.import_certificates(_pem(real_ca[1], bound), "") == []


async def test_a_revoked_certificate_retires_its_key(token: Token, engine: AsyncEngine) -> None:
    keys = store(token, engine)
    await keys.start()
    person = str(uuid.uuid4())
    first = await keys.person(person, full_name="Lê Thị Bình")
    stored = next(r for r in await rows(engine) if r.person_id == person)
    with pytest.raises(DomainError) as unexplained:
        await keys.revoke(stored.id, reason="  ")
    assert unexplained.value.reason == "INVALID_REVOCATION_REASON"
    revoked = await keys.revoke(stored.id, reason="Lộ khóa bí mật")
    assert revoked.revoked_at is not None and revoked.key_label != f"person-{person}"
    with pytest.raises(DomainError) as twice:
        await keys.revoke(stored.id, reason="Lần nữa")
    assert twice.value.reason == "CERTIFICATE_REVOKED"

    second = await keys.person(person, full_name="Lê Thị Bình")
    assert fingerprint(second.certificate) != fingerprint(first.certificate)
    # A new key: the old one is still in the token, under its retired name only.
    assert second.certificate.public_key() != first.certificate.public_key()
    assert token.public_key(str(revoked.key_label)) == first.certificate.public_key()
