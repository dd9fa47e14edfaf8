"""The agency's organisation as the directory keeps it: the agency profile and its people."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from vanban.platform.clearance import Clearance
from vanban.platform.credentials import PASSWORD_MAX
from vanban.platform.errors import invalid_fields
from vanban.platform.organ_id import ORGAN_ID


class Role(enum.Enum):
    """Vai trò: what a person may do in the agency; the values travel in caller tokens."""

    CLERK = "clerk"  # văn thư
    SPECIALIST = "specialist"  # chuyên viên
    UNIT_HEAD = "unit_head"  # trưởng đơn vị
    DEPUTY_UNIT_HEAD = "deputy_unit_head"  # phó trưởng đơn vị
    AGENCY_LEADER = "agency_leader"  # lãnh đạo cơ quan
    DEPUTY_AGENCY_LEADER = "deputy_agency_leader"  # phó lãnh đạo cơ quan
    ARCHIVIST = "archivist"  # lưu trữ
    ADMIN = "admin"  # quản trị


SIGNER_ROLES = frozenset(
    {Role.AGENCY_LEADER, Role.DEPUTY_AGENCY_LEADER, Role.UNIT_HEAD, Role.DEPUTY_UNIT_HEAD}
)


AGENCY_CODE_MAX = 13
AGENCY_NAME_MAX = 200
ABBREVIATION_MAX = 30
ADDRESS_MAX = 500
PHONE_MAX = 32
EMAIL_MAX = 254
WEBSITE_MAX = 255
EXTERNAL_SUBJECT_MAX = 255
USERNAME_MAX = 64
FULL_NAME_MAX = 200
POSITION_TITLE_MAX = 200
UNIT_CODE_MAX = 32
PASSWORD_MIN = 8

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_UNIT_CODE_RE = re.compile(r"^[0-9A-Z][0-9A-Z._-]*$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ().-]*$")
# Deliberately loose: one @, no spaces, a dot in the domain. Delivery is the real test.
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WEBSITE_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def normalize_username(username: str) -> str:
    """Usernames are compared without case and surrounding spaces."""
    return username.strip().lower()


def normalize_email(email: str | None) -> str | None:
    """E-mail addresses are kept lower-case; an empty one is no address."""
    if email is None:
        return None
    return email.strip().lower() or None


def is_unit_code(code: str) -> bool:
    return bool(code) and len(code) <= UNIT_CODE_MAX and bool(_UNIT_CODE_RE.match(code))


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image kept by the archive: its content hash (lower-case hex SHA-256) and size."""

    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Agency:
    """Cơ quan, tổ chức: the tenant, identified by its mã định danh (e.g. 000.00.00.H99)."""

    code: str
    name: str
    abbreviation: str
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    # Con dấu: the red seal image affixed with the agency's digital signature.
    seal_image: ImageRef | None = None

    def validated(self) -> Agency:
        agency = Agency(
            code=self.code.strip(),
            name=" ".join(self.name.split()),
            abbreviation=self.abbreviation.strip(),
            address=" ".join(self.address.split()),
            phone=self.phone.strip(),
            email=normalize_email(self.email) or "",
            website=self.website.strip(),
            seal_image=self.seal_image,
        )
        problems: dict[str, str] = {}
        check_text(problems, "code", agency.code, AGENCY_CODE_MAX)
        if "code" not in problems and not ORGAN_ID.fullmatch(agency.code):
            problems["code"] = "must be an agency identifier such as 000.00.00.H99"
        check_text(problems, "name", agency.name, AGENCY_NAME_MAX)
        check_text(problems, "abbreviation", agency.abbreviation, ABBREVIATION_MAX)
        check_optional_text(problems, "address", agency.address, ADDRESS_MAX)
        check_optional_text(problems, "phone", agency.phone, PHONE_MAX, _PHONE_RE, "a phone number")
        check_optional_text(
            problems, "email", agency.email, EMAIL_MAX, _EMAIL_RE, "an e-mail address"
        )
        check_optional_text(
            problems, "website", agency.website, WEBSITE_MAX, _WEBSITE_RE, "an http(s) address"
        )
        if problems:
            raise invalid_fields(problems, reason="INVALID_AGENCY")
        return agency


@dataclass(frozen=True, slots=True)
class AgencyChanges:
    """What an administrator changes in the agency profile; None leaves a field as it is.

    `code` is only ever compared: the mã định danh identifies the agency everywhere (document
    identifiers, the exchange axis) and cannot change.
    """

    code: str | None = None
    name: str | None = None
    abbreviation: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None

    def applied_to(self, agency: Agency) -> Agency:
        if self.code is not None and self.code.strip() and self.code.strip() != agency.code:
            raise invalid_fields(
                {"code": "is the agency's identifier and cannot change"}, reason="CODE_IMMUTABLE"
            )
        return replace(
            agency,
            name=agency.name if self.name is None else self.name,
            abbreviation=agency.abbreviation if self.abbreviation is None else self.abbreviation,
            address=agency.address if self.address is None else self.address,
            phone=agency.phone if self.phone is None else self.phone,
            email=agency.email if self.email is None else self.email,
            website=agency.website if self.website is None else self.website,
        ).validated()


@dataclass(frozen=True, slots=True)
class Person:
    """Cán bộ, công chức: a person of the agency who may sign in.

    `external_subject` and `email` map the person to an identity at the agency's OIDC
    provider; `password_must_change` marks a password set by someone else (an administrator,
    an import) that its owner has to replace. `session_version` grows whenever what a sign-in
    grants changes (see `ends_sessions`): tokens issued under an older version are void.
    """

    id: str
    username: str
    full_name: str
    position_title: str
    roles: frozenset[Role]
    unit_codes: tuple[str, ...]
    clearance: Clearance
    active: bool
    created_at: datetime
    email: str | None = None
    external_subject: str | None = None
    password_must_change: bool = False
    # The blue handwritten-signature image shown between a leader's title and name.
    signature_image: ImageRef | None = None
    session_version: int = 1

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def signs(self) -> bool:
        """Leaders sign documents, so only they have a signature image."""
        return bool(self.roles & SIGNER_ROLES)

    def draft(self) -> PersonDraft:
        """The person's editable fields, as an administrator would enter them."""
        return PersonDraft(
            username=self.username,
            full_name=self.full_name,
            position_title=self.position_title,
            roles=self.roles,
            unit_codes=self.unit_codes,
            clearance=self.clearance,
            email=self.email,
            external_subject=self.external_subject,
        )

    def with_draft(self, draft: PersonDraft) -> Person:
        return replace(
            self,
            username=draft.username,
            full_name=draft.full_name,
            position_title=draft.position_title,
            roles=frozenset(draft.roles),
            unit_codes=tuple(draft.unit_codes),
            clearance=draft.clearance,
            email=draft.email,
            external_subject=draft.external_subject,
        )


def ends_sessions(before: Person, after: Person) -> bool:
    """Whether a change takes away what the person's sign-ins were granted, or changes which
    outside identity maps to them: then their sessions end and their tokens stop working.

    Roles, units and clearance travel in tokens; deactivation ends everything; e-mail and
    external subject decide who an identity provider's token is taken for.
    """
    return (
        before.roles != after.roles
        or set(before.unit_codes) != set(after.unit_codes)
        or before.clearance != after.clearance
        or (before.active and not after.active)
        or before.email != after.email
        or before.external_subject != after.external_subject
    )


@dataclass(frozen=True, slots=True)
class PersonDraft:
    """What an administrator (or the bootstrap, or an import) enters for a person."""

    username: str
    full_name: str
    position_title: str
    roles: Iterable[Role]
    unit_codes: Iterable[str] = ()
    clearance: Clearance = Clearance.NONE
    email: str | None = None
    external_subject: str | None = None

    def validated(self) -> PersonDraft:
        """Normalises the fields and checks every one; raises one error naming all problems."""
        draft = PersonDraft(
            username=normalize_username(self.username),
            full_name=" ".join(self.full_name.split()),
            position_title=" ".join(self.position_title.split()),
            roles=frozenset(self.roles),
            unit_codes=tuple(dict.fromkeys(code.strip() for code in self.unit_codes)),
            clearance=self.clearance,
            email=normalize_email(self.email),
            external_subject=(self.external_subject or "").strip() or None,
        )
        problems: dict[str, str] = {}
        check_text(problems, "username", draft.username, USERNAME_MAX)
        if "username" not in problems and not _USERNAME_RE.match(draft.username):
            problems["username"] = "may hold only a-z, 0-9, '.', '_' and '-'"
        check_text(problems, "full_name", draft.full_name, FULL_NAME_MAX)
        check_optional_text(problems, "position_title", draft.position_title, POSITION_TITLE_MAX)
        if not draft.roles:
            problems["roles"] = "at least one role is required"
        for code in draft.unit_codes:
            if not is_unit_code(code):
                problems["unit_codes"] = f"{code!r} is not a unit code such as VP"
                break
        check_optional_text(
            problems, "email", draft.email or "", EMAIL_MAX, _EMAIL_RE, "an e-mail address"
        )
        check_optional_text(
            problems, "external_subject", draft.external_subject or "", EXTERNAL_SUBJECT_MAX
        )
        if problems:
            raise invalid_fields(problems, reason="INVALID_PERSON")
        return draft


@dataclass(frozen=True, slots=True)
class PersonChanges:
    """What an administrator changes in a person; None leaves a field as it is.

    An empty `email` or `external_subject` removes it. `active=False` deactivates the person,
    `active=True` brings a deactivated person back.
    """

    username: str | None = None
    full_name: str | None = None
    position_title: str | None = None
    roles: Iterable[Role] | None = None
    unit_codes: Iterable[str] | None = None
    clearance: Clearance | None = None
    email: str | None = None
    external_subject: str | None = None
    active: bool | None = None

    def applied_to(self, person: Person) -> Person:
        draft = person.draft()
        values = {
            name: getattr(self, name)
            for name in (
                "username",
                "full_name",
                "position_title",
                "roles",
                "unit_codes",
                "clearance",
                "email",
                "external_subject",
            )
            if getattr(self, name) is not None
        }
        changed = person.with_draft(replace(draft, **values).validated())
        if self.active is not None:
            changed = replace(changed, active=self.active)
        return changed


def check_new_password(password: str) -> None:
    problems: dict[str, str] = {}
    if len(password) < PASSWORD_MIN:
        problems["password"] = f"must be at least {PASSWORD_MIN} characters"
    elif len(password) > PASSWORD_MAX:
        problems["password"] = f"must be at most {PASSWORD_MAX} characters"
    if problems:
        raise invalid_fields(problems, reason="INVALID_PASSWORD")


def check_text(problems: dict[str, str], name: str, value: str, limit: int) -> None:
    if not value:
        problems[name] = "is required"
    else:
        check_optional_text(problems, name, value, limit)


def check_optional_text(
    problems: dict[str, str],
    name: str,
    value: str,
    limit: int,
    pattern: re.Pattern[str] | None = None,
    what: str = "",
) -> None:
    if not value:
        return
    if len(value) > limit:
        problems[name] = f"must be at most {limit} characters"
    elif has_control_characters(value):
        problems[name] = "must not contain control characters"
    elif pattern is not None and not pattern.match(value):
        problems[name] = f"must be {what}"


def has_control_characters(value: str) -> bool:
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value)
