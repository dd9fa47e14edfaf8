"""API keys let an agency system register and read documents with the scopes it was given."""

from __future__ import annotations

from tests.e2e.support import Gateway


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_issues_a_key_that_registers_and_reads_within_its_scopes(gateway: Gateway) -> None:
    admin = gateway.token("quantri")
    created = gateway.http.post(
        "/v1/api-keys",
        headers=auth(admin),
        json={"name": "Trạm số hóa tầng 1", "scopes": ["incoming:register", "incoming:read"]},
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("vbk.")

    registered = gateway.register(key)
    assert registered.status_code == 201, registered.text
    document = registered.json()
    assert document["registered_by"] == f"apikey:{created.json()['id']}"
    read = gateway.http.get(f"/v1/incoming-documents/{document['id']}", headers={"X-API-Key": key})
    assert read.status_code == 200
    # A key has no inbox.
    assert (
        gateway.http.get("/v1/notifications", headers=auth(key)).json()["code"] == "SCOPE_REQUIRED"
    )

    listed = gateway.http.get("/v1/api-keys", headers=auth(admin)).json()
    assert [k["name"] for k in listed if k["id"] == created.json()["id"]] == ["Trạm số hóa tầng 1"]
    assert all("key" not in k for k in listed)

    revoked = gateway.http.delete(f"/v1/api-keys/{created.json()['id']}", headers=auth(admin))
    assert revoked.status_code == 204
    refused = gateway.register(key)
    assert refused.status_code == 401
    assert refused.json()["code"] == "API_KEY_REVOKED"


def test_a_read_only_key_may_not_register(gateway: Gateway) -> None:
    admin = gateway.token("quantri")
    key = gateway.http.post(
        "/v1/api-keys",
        headers=auth(admin),
        json={"name": "Cổng thông tin", "scopes": ["incoming:read"]},
    ).json()["key"]
    refused = gateway.register(key)
    assert refused.status_code == 403
    assert refused.json()["code"] == "SCOPE_REQUIRED"


def test_only_admins_manage_keys_and_unknown_scopes_are_named(
    gateway: Gateway, clerk_token: str
) -> None:
    body = {"name": "x", "scopes": ["incoming:read"]}
    assert (
        gateway.http.post("/v1/api-keys", headers=auth(clerk_token), json=body).status_code == 403
    )
    bad = gateway.http.post(
        "/v1/api-keys",
        headers=auth(gateway.token("quantri")),
        json={"name": "x", "scopes": ["everything"]},
    )
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["errors"]] == ["scopes"]


def test_a_forged_key_is_refused(gateway: Gateway) -> None:
    for forged in ("vbk.not-a-uuid.secret", "vbk.00000000-0000-0000-0000-000000000000.secret"):
        response = gateway.http.get(
            "/v1/incoming-documents/00000000-0000-0000-0000-000000000000", headers=auth(forged)
        )
        assert response.status_code == 401
        assert response.json()["code"] == "API_KEY_INVALID"


def test_an_api_key_cannot_manage_keys(gateway: Gateway) -> None:
    admin = gateway.token("quantri")
    key = gateway.http.post(
        "/v1/api-keys",
        headers=auth(admin),
        json={"name": "Hệ thống một cửa", "scopes": ["incoming:register", "incoming:read"]},
    ).json()["key"]
    for response in (
        gateway.http.get("/v1/api-keys", headers=auth(key)),
        gateway.http.post(
            "/v1/api-keys", headers=auth(key), json={"name": "x", "scopes": ["incoming:read"]}
        ),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "SCOPE_REQUIRED"
