"""Who may change the directory (administrators, and platform services acting for the
platform), and who may see the private parts of what it keeps."""

from __future__ import annotations

from vanban.directory.domain.delegation import Delegation
from vanban.directory.domain.model import Role
from vanban.platform.caller import Caller


def require_admin(caller: Caller) -> None:
    """Every change to the organisation needs the admin role (service identities pass too)."""
    caller.require_role(Role.ADMIN.value)


def is_admin(caller: Caller) -> bool:
    return caller.is_service or Role.ADMIN.value in caller.roles


def sees_private_details(caller: Caller, person_id: str) -> bool:
    """Whether the caller may see a person's clearance, e-mail, OIDC subject and password
    state: administrators (who set them), platform services, and the person themself.

    Anyone else reads names, titles, roles and units only: a list of who is cleared for state
    secrets picks targets, and e-mail and provider subjects help impersonate them.
    """
    return is_admin(caller) or caller.subject == person_id


def sees_delegation_reasons(caller: Caller, delegation: Delegation) -> bool:
    """Whether the caller may read why a delegation was made or revoked (often personal: leave,
    illness): its two people, administrators and platform services."""
    return is_admin(caller) or caller.subject in (
        delegation.from_person_id,
        delegation.to_person_id,
    )
