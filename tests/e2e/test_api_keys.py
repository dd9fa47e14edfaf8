"""API keys let an agency system register and read documents with the scopes it was given."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.support import Gateway, eventually, query
from vanban.launcher.platform import Platform


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


def make_key(gateway: Gateway, **overrides: object) -> dict[str, Any]:
    created = gateway.http.post(
        "/v1/api-keys",
        headers=auth(gateway.token("quantri")),
        json={"name": "Trạm số hóa", "scopes": ["incoming:register", "incoming:read"]} | overrides,
    )
    assert created.status_code == 201, created.text
    return created.json()


def test_a_real_key_id_with_a_wrong_secret_is_refused(gateway: Gateway) -> None:
    created = make_key(gateway)
    _, key_id, secret = created["key"].split(".", 2)
    forged = f"vbk.{key_id}.{'A' * len(secret)}"

    refused = gateway.http.get("/v1/api-keys", headers=auth(forged))
    assert refused.status_code == 401
    assert refused.json()["code"] == "API_KEY_INVALID"
    assert gateway.register(forged).json()["code"] == "API_KEY_INVALID"
    # The real key is untouched.
    assert gateway.register(created["key"]).status_code == 201


def test_the_gateway_keeps_only_a_hash_of_a_key(platform: Platform, gateway: Gateway) -> None:
    created = make_key(gateway)
    secret = created["key"].split(".", 2)[2]

    rows = query(platform, "gateway", "select * from api_keys where id = :id", id=created["id"])
    assert len(rows) == 1
    assert rows[0].secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    # Nowhere in the gateway's database — key table, audit, anything — is the secret itself.
    tables = query(
        platform,
        "gateway",
        "select table_name from information_schema.tables where table_schema = 'public'",
    )
    for (table,) in tables:
        for row in query(platform, "gateway", f'select * from "{table}"'):
            assert secret not in str(tuple(row)), table


def test_an_expired_key_is_refused(gateway: Gateway) -> None:
    expires_at = datetime.now(UTC) + timedelta(seconds=4)
    created = make_key(gateway, expires_at=expires_at.isoformat())
    assert gateway.register(created["key"]).status_code == 201  # in force until then

    def refused() -> str | None:
        answer = gateway.http.get(
            "/v1/incoming-documents/" + str(uuid.uuid4()), headers=auth(created["key"])
        )
        return answer.json()["code"] if answer.status_code == 401 else None

    assert eventually(refused, timeout=30) == "API_KEY_EXPIRED"
