"""Who may change the directory: administrators, and platform services acting for the platform."""

from __future__ import annotations

from vanban.directory.domain.model import Role
from vanban.platform.caller import Caller


def require_admin(caller: Caller) -> None:
    """Every change to the organisation needs the admin role (service identities pass too)."""
    caller.require_role(Role.ADMIN.value)


def is_admin(caller: Caller) -> bool:
    return caller.is_service or Role.ADMIN.value in caller.roles
