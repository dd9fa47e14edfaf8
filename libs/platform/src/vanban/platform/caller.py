"""Who is calling: the caller identity every service receives in gRPC metadata.

The gateway (or a service acting on its own behalf) mints a short-lived Ed25519-signed JWT, the
caller token, and sends it as `x-vanban-caller`. Every service verifies it before any handler runs
and exposes the result through `current_caller()`.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vanban.platform.clearance import Clearance
from vanban.platform.errors import PermissionDeniedError, UnauthenticatedError

CALLER_METADATA_KEY = "x-vanban-caller"
SIGNING_KEY_FILE = "caller-signing.key"
VERIFYING_KEY_FILE = "caller-signing.pub"
_ISSUER = "vanban"
_AUDIENCE = "vanban-services"
DEFAULT_TTL_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Delegation:
    """A delegation (ủy quyền) the caller holds: they may do any of `scopes` for
    `delegator_id` from `valid_from` until, not including, `valid_until` (aware datetimes).

    In the caller token it is the claim `{"id", "from", "scope": "a,b", "starts_at",
    "ends_at"}` (ISO 8601), read once where the token is verified."""

    id: str
    delegator_id: str
    scopes: frozenset[str]
    valid_from: datetime
    valid_until: datetime

    def grants(self, person_id: str, action: str, *, now: datetime) -> bool:
        """Whether it lets its holder do `action` for `person_id` at `now`, the moment of use
        (not when the token was made)."""
        return (
            self.delegator_id == person_id
            and action in self.scopes
            and self.valid_from <= now < self.valid_until
        )

    def to_claim(self) -> dict[str, str]:
        return {
            "id": self.id,
            "from": self.delegator_id,
            "scope": ",".join(sorted(self.scopes)),
            "starts_at": self.valid_from.isoformat(),
            "ends_at": self.valid_until.isoformat(),
        }

    @classmethod
    def from_claim(cls, claim: object) -> Delegation | None:
        """The delegation a token's claim states, or None when it is malformed (a missing
        field, a date without its offset): a delegation nobody can read grants nothing."""
        if not isinstance(claim, dict):
            return None
        try:
            delegation = cls(
                id=str(claim["id"]),
                delegator_id=str(claim["from"]),
                scopes=frozenset(s for s in str(claim["scope"]).split(",") if s),
                valid_from=datetime.fromisoformat(claim["starts_at"]),
                valid_until=datetime.fromisoformat(claim["ends_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        if delegation.valid_from.tzinfo is None or delegation.valid_until.tzinfo is None:
            return None
        return delegation


@dataclass(frozen=True, slots=True)
class Caller:
    """The person (or service) on whose behalf a call is made."""

    agency_code: str
    subject: str
    roles: frozenset[str] = frozenset()
    units: tuple[str, ...] = ()
    clearance: Clearance = Clearance.NONE
    delegations: tuple[Delegation, ...] = ()
    is_service: bool = False

    @property
    def person_id(self) -> str:
        if self.is_service:
            raise PermissionDeniedError("a service identity is not a person", reason="NOT_A_PERSON")
        return self.subject

    def delegation_from(self, person_id: str, action: str, *, now: datetime) -> Delegation | None:
        """The delegation under which this caller may do `action` for `person_id` at `now`."""
        for delegation in self.delegations:
            if delegation.grants(person_id, action, now=now):
                return delegation
        return None

    def cleared_for(self, secrecy: Clearance | str) -> bool:
        """Whether this caller may know of a document of `secrecy`; services may. A level
        named by a string this platform does not know is above every clearance."""
        if self.is_service:
            return True
        level = Clearance.parse(secrecy)
        return level is not None and self.clearance.covers(level)

    def require_role(self, *roles: str) -> None:
        if self.is_service or self.roles.intersection(roles):
            return
        raise PermissionDeniedError(
            f"this action needs one of the roles: {', '.join(sorted(roles))}",
            reason="ROLE_REQUIRED",
            metadata={"roles": ",".join(sorted(roles))},
        )

    def require_service(self) -> None:
        if not self.is_service:
            raise PermissionDeniedError(
                "only platform services may call this", reason="SERVICE_ONLY"
            )


_current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "vanban_caller", default=None
)


def current_caller() -> Caller:
    caller = _current.get()
    if caller is None:
        raise UnauthenticatedError("no caller identity", reason="CALLER_MISSING")
    return caller


def set_current_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    return _current.set(caller)


def reset_current_caller(token: contextvars.Token[Caller | None]) -> None:
    _current.reset(token)


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key at `path`, made there first if absent; never overwrites one.

    The key is written to a private (0600) temporary file and hard-linked into place, so
    processes starting together agree on one key and nobody ever reads a half-written one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # created 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            with contextlib.suppress(FileExistsError):  # another process won: use its key
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def ensure_keypair(keys_dir: Path) -> None:
    """Creates the agency's caller-signing key pair on first start; never overwrites one."""
    key = load_or_create_private_key(keys_dir / SIGNING_KEY_FILE)
    public_path = keys_dir / VERIFYING_KEY_FILE
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not public_path.exists() or public_path.read_bytes() != public_pem:
        tmp = public_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(public_pem)
        tmp.replace(public_path)


class CallerTokenIssuer:
    def __init__(self, private_key: Ed25519PrivateKey, *, ttl_seconds: int = DEFAULT_TTL_SECONDS):
        self._key = private_key
        self._ttl = ttl_seconds

    @classmethod
    def from_keys_dir(cls, keys_dir: Path, **kwargs: int) -> CallerTokenIssuer:
        key = serialization.load_pem_private_key((keys_dir / SIGNING_KEY_FILE).read_bytes(), None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the caller-signing key must be Ed25519")
        return cls(key, **kwargs)

    def issue(self, caller: Caller) -> str:
        now = int(time.time())
        claims = {
            "iss": _ISSUER,
            "aud": _AUDIENCE,
            "sub": caller.subject,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + self._ttl,
            "agency": caller.agency_code,
            "roles": sorted(caller.roles),
            "units": list(caller.units),
            "clearance": caller.clearance,
            "delegations": [delegation.to_claim() for delegation in caller.delegations],
            "svc": caller.is_service,
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA")

    def service_token(self, agency_code: str, service: str) -> str:
        return self.issue(
            Caller(agency_code=agency_code, subject=f"service:{service}", is_service=True)
        )


class CallerTokenVerifier:
    def __init__(self, public_key: Ed25519PublicKey, *, agency_code: str):
        self._key = public_key
        self._agency = agency_code

    @classmethod
    def from_keys_dir(cls, keys_dir: Path, *, agency_code: str) -> CallerTokenVerifier:
        key = serialization.load_pem_public_key((keys_dir / VERIFYING_KEY_FILE).read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the caller-verifying key must be Ed25519")
        return cls(key, agency_code=agency_code)

    def verify(self, token: str) -> Caller:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["EdDSA"],
                audience=_AUDIENCE,
                issuer=_ISSUER,
                options={"require": ["exp", "iat", "sub", "agency"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError(
                "the caller token has expired", reason="CALLER_EXPIRED"
            ) from None
        except jwt.InvalidTokenError as exc:
            raise UnauthenticatedError(
                f"invalid caller token: {exc}", reason="CALLER_INVALID"
            ) from None
        if claims["agency"] != self._agency:
            raise UnauthenticatedError(
                "the caller token belongs to another agency", reason="CALLER_WRONG_AGENCY"
            )
        return Caller(
            agency_code=claims["agency"],
            subject=claims["sub"],
            roles=frozenset(claims.get("roles", ())),
            units=tuple(claims.get("units", ())),
            clearance=Clearance.held(claims.get("clearance")),
            delegations=tuple(
                delegation
                for delegation in map(Delegation.from_claim, claims.get("delegations", ()))
                if delegation is not None
            ),
            is_service=bool(claims.get("svc", False)),
        )
