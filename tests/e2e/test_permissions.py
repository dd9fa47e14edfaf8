"""docs/security/permissions.md, rows 1–3, allowed and denied, through the gateway."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.support import Gateway, metadata


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def registered(gateway: Gateway, clerk_token: str) -> dict[str, Any]:
    """A confidential (mật) document registered by the clerk, whose clearance is mật."""
    response = gateway.register(clerk_token, meta=metadata(secrecy="confidential"))
    assert response.status_code == 201, response.text
    return response.json()


def test_register_allowed_for_the_clerk(gateway: Gateway, clerk_token: str) -> None:
    assert gateway.register(clerk_token).status_code == 201


@pytest.mark.parametrize("username", ["lanhdao", "truongphong", "chuyenvien"])
def test_register_denied_to_other_roles(gateway: Gateway, username: str) -> None:
    response = gateway.register(gateway.token(username))
    assert response.status_code == 403
    assert response.json()["code"] == "ROLE_REQUIRED"


def test_register_above_clearance_is_denied(gateway: Gateway, clerk_token: str) -> None:
    response = gateway.register(clerk_token, meta=metadata(secrecy="secret"))
    assert response.status_code == 403
    assert response.json()["code"] == "CLEARANCE_TOO_LOW"


@pytest.mark.parametrize("username", ["vanthu", "lanhdao"])
def test_read_allowed_to_registry_readers_within_clearance(
    gateway: Gateway,
    registered: dict[str, Any],
    username: str,
) -> None:
    token = gateway.token(username)
    document = gateway.http.get(f"/v1/incoming-documents/{registered['id']}", headers=auth(token))
    assert document.status_code == 200
    file = gateway.http.get(f"/v1/incoming-documents/{registered['id']}/file", headers=auth(token))
    assert file.status_code == 200


@pytest.mark.parametrize("username", ["truongphong", "chuyenvien"])
def test_read_denied_to_others_as_not_found(
    gateway: Gateway,
    registered: dict[str, Any],
    username: str,
) -> None:
    token = gateway.token(username)
    for path in (
        f"/v1/incoming-documents/{registered['id']}",
        f"/v1/incoming-documents/{registered['id']}/file",
    ):
        response = gateway.http.get(path, headers=auth(token))
        assert response.status_code == 404
        assert response.json()["code"] == "INCOMING_NOT_FOUND"
