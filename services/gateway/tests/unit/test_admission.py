"""Before any route runs: the Host is one the gateway serves, the caller is established, and the
body is held to the route's limit — a stranger's body is never read."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from httpx import Response
from starlette.types import Message, Scope
from starlette.websockets import WebSocketDisconnect

from vanban.gateway.api import admission, problems
from vanban.gateway.api.admission import (
    JSON_MAX_BYTES,
    AdmissionMiddleware,
    RoutePolicy,
    RouteTable,
    SignInFloodGuard,
    client_address,
    client_of,
    host_allowed,
    without_trace_headers,
)
from vanban.gateway.api.auth import AccessTokens, Authenticator, CurrentPrincipal, principal
from vanban.gateway.domain.revocations import Revocations
from vanban.gateway.domain.throttle import PasswordCheckGate
from vanban.platform.caller import Caller, CallerTokenIssuer, Delegation

AGENCY = "000.00.00.H99"
KIB = 1024
FILE_LIMIT = 64 * KIB
UPLOAD_LIMIT = FILE_LIMIT + 4 * KIB
SIGN_IN_LIMIT = 2 * KIB
HOSTS = ("testserver", "localhost", "127.0.0.1", "[::1]", "*.demo.gov.vn")


class NoDelegations:
    async def held_by(self, subject: str) -> tuple[Delegation, ...]:
        return ()


@dataclass
class Seen:
    bodies: list[int] = field(default_factory=list)
    callers: list[str] = field(default_factory=list)


def build_app(tokens: AccessTokens, seen: Seen, *, proxies: tuple[str, ...] = ()) -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.post("/upload", operation_id="upload")
    async def _upload(request: Request, who: CurrentPrincipal) -> dict[str, int]:
        body = await request.body()
        seen.bodies.append(len(body))
        seen.callers.append(who.caller.subject)
        return {"received": len(body)}

    @app.post("/things", operation_id="createThing")
    async def _create(request: Request, who: CurrentPrincipal) -> dict[str, int]:
        body = await request.body()
        seen.bodies.append(len(body))
        return {"received": len(body)}

    @app.get("/things", operation_id="listThings")
    async def _list(who: CurrentPrincipal) -> dict[str, str]:
        return {"caller": who.caller.subject}

    @app.get("/healthz", operation_id="liveness")
    async def _healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/sign-in", operation_id="signIn")
    async def _sign_in(request: Request) -> dict[str, Any]:
        body = await request.body()
        seen.bodies.append(len(body))
        client = client_of(request.scope)
        return {"received": len(body), "client": client.ip, "key": client.key}

    app.add_middleware(
        AdmissionMiddleware,
        routes=RouteTable(
            app,
            {
                "upload": RoutePolicy(UPLOAD_LIMIT, file_limit=FILE_LIMIT),
                "signIn": RoutePolicy(SIGN_IN_LIMIT, public=True),
                "liveness": RoutePolicy(0, public=True),
            },
        ),
        authenticate=Authenticator(
            agency_code=AGENCY,
            access_tokens=tokens,
            caller_tokens=CallerTokenIssuer(Ed25519PrivateKey.generate()),
            uow=_no_database,
            oidc=None,
            upstreams=None,  # type: ignore[arg-type]  # only OIDC (off here) calls upstream
            delegations=NoDelegations(),
            revocations=Revocations(keep=timedelta(minutes=16)),
        ),
        trusted_hosts=HOSTS,
        trusted_proxies=proxies,
    )
    return app


def _no_database() -> Any:
    raise AssertionError("no API key in these tests")


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def tokens(key: Ed25519PrivateKey) -> AccessTokens:
    return AccessTokens(key, agency_code=AGENCY, ttl_seconds=300)


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def client(tokens: AccessTokens, seen: Seen) -> Iterator[TestClient]:
    with TestClient(build_app(tokens, seen), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def bearer(tokens: AccessTokens) -> dict[str, str]:
    token = tokens.issue(Caller(agency_code=AGENCY, subject="clerk-1"), name="Trần Thị Bình")
    return {"Authorization": f"Bearer {token}"}


def problem_of(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    return body


def chunks(total: int, size: int = 4 * KIB) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"x" * piece


# The caller first ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/upload", "/things"])
def test_a_stranger_is_refused_on_every_route_that_is_not_public(
    client: TestClient, seen: Seen, path: str
) -> None:
    response = client.post(path, content=b"{}")
    body = problem_of(response, 401)

    assert body["code"] == "TOKEN_MISSING"
    assert response.headers["www-authenticate"] == "Bearer"
    assert seen.bodies == []


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-token"], ids=repr
)
def test_a_bad_token_is_refused(client: TestClient, seen: Seen, authorization: str) -> None:
    response = client.post("/upload", content=b"%PDF-1.7", headers={"Authorization": authorization})

    assert problem_of(response, 401)["code"] in {"TOKEN_MISSING", "TOKEN_INVALID"}
    assert seen.bodies == []


def test_an_expired_token_is_refused_as_expired(client: TestClient, key: Ed25519PrivateKey) -> None:
    expired = AccessTokens(key, agency_code=AGENCY, ttl_seconds=-60)
    token = expired.issue(Caller(agency_code=AGENCY, subject="clerk-1"), name="Trần Thị Bình")

    response = client.get("/things", headers={"Authorization": f"Bearer {token}"})

    assert problem_of(response, 401)["code"] == "TOKEN_EXPIRED"


def test_the_established_caller_reaches_the_route(
    client: TestClient, seen: Seen, bearer: dict[str, str]
) -> None:
    response = client.post("/upload", content=b"x" * 1000, headers=bearer)

    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1000}
    assert seen.callers == ["clerk-1"]


def test_an_unknown_path_tells_a_stranger_nothing(client: TestClient) -> None:
    assert problem_of(client.get("/no-such-route"), 401)["code"] == "TOKEN_MISSING"


def test_a_public_route_needs_no_caller(client: TestClient) -> None:
    response = client.post("/sign-in", content=b"username=a&password=b")

    assert response.status_code == 200, response.text


def test_a_strangers_body_is_never_received(tokens: AccessTokens, seen: Seen) -> None:
    """Driven as the server drives it: the app is not even asked for the first chunk."""
    app = build_app(tokens, seen)
    received: list[Message] = []
    sent: list[Message] = []

    async def receive() -> Message:
        message: Message = {"type": "http.request", "body": b"[" * 1024, "more_body": True}
        received.append(message)
        return message

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/things",
        "raw_path": b"/things",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"localhost:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(37 * 1024 * 1024).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }

    asyncio.run(app(scope, receive, send))

    assert sent[0]["status"] == 401
    assert received == []


def test_a_public_route_that_asks_for_the_caller_is_a_mistake_caught_at_start() -> None:
    app = FastAPI()

    @app.get("/oops", operation_id="oops")
    async def _oops(who: Any = Depends(principal)) -> None:  # noqa: B008
        return None

    with pytest.raises(ValueError, match="oops"):
        RouteTable(app, {"oops": RoutePolicy(0, public=True)})


def test_a_policy_for_a_route_that_does_not_exist_is_a_mistake_caught_at_start() -> None:
    with pytest.raises(ValueError, match="uplaod"):
        RouteTable(FastAPI(), {"uplaod": RoutePolicy(1)})


# Body limits ---------------------------------------------------------------------------------


def test_an_announced_length_over_the_limit_is_a_413_naming_the_file_limit(
    client: TestClient, seen: Seen, bearer: dict[str, str]
) -> None:
    body = problem_of(
        client.post("/upload", content=b"x" * (UPLOAD_LIMIT + 1), headers=bearer), 413
    )

    assert body["code"] == "FILE_TOO_LARGE"
    assert "64 KiB" in body["detail"]
    assert seen.bodies == []


def test_a_streamed_body_over_the_limit_without_length_is_a_413(
    client: TestClient, seen: Seen, bearer: dict[str, str]
) -> None:
    response = client.post("/upload", content=chunks(UPLOAD_LIMIT + 1), headers=bearer)

    assert problem_of(response, 413)["code"] == "FILE_TOO_LARGE"
    assert seen.bodies == []


def test_a_streamed_body_at_the_limit_is_accepted(
    client: TestClient, bearer: dict[str, str]
) -> None:
    response = client.post("/upload", content=chunks(UPLOAD_LIMIT), headers=bearer)

    assert response.status_code == 200, response.text
    assert response.json() == {"received": UPLOAD_LIMIT}


def test_a_json_route_takes_a_mebibyte_at_most(client: TestClient, bearer: dict[str, str]) -> None:
    assert client.post("/things", content=b" " * JSON_MAX_BYTES, headers=bearer).status_code == 200
    body = problem_of(
        client.post("/things", content=chunks(JSON_MAX_BYTES + 1, 64 * KIB), headers=bearer), 413
    )
    assert body["code"] == "BODY_TOO_LARGE"


def test_sign_in_takes_a_few_kibibytes_from_anyone(client: TestClient, seen: Seen) -> None:
    response = client.post("/sign-in", content=chunks(SIGN_IN_LIMIT + 1))

    assert problem_of(response, 413)["code"] == "BODY_TOO_LARGE"
    assert seen.bodies == []


def test_a_get_takes_no_body(client: TestClient, bearer: dict[str, str]) -> None:
    response = client.request("GET", "/things", content=b"x", headers=bearer)

    assert problem_of(response, 413)["code"] == "BODY_TOO_LARGE"


# Host and headers ----------------------------------------------------------------------------


def test_the_orchestrators_probe_is_answered_at_the_pods_address(
    client: TestClient, bearer: dict[str, str]
) -> None:
    """The kubelet names the pod's address as the host: the probe is answered, nothing else."""
    pod = {"Host": "10.42.3.17:8080"}

    assert client.get("/healthz", headers=pod).json() == {"status": "ok"}
    assert problem_of(client.get("/things", headers={**bearer, **pod}), 400)["code"] == (
        "HOST_NOT_ALLOWED"
    )
    assert problem_of(client.post("/sign-in", content=b"{}", headers=pod), 400)["code"] == (
        "HOST_NOT_ALLOWED"
    )
    # Only the probes' exact paths: nothing under or beside them, however it is spelt.
    for path in (
        "/healthz/x",
        "/healthzz",
        "/healthz/../things",
        "//healthz",
        "/things?p=/healthz",
    ):
        answer = client.get(path, headers={**bearer, **pod})
        assert problem_of(answer, 400)["code"] == "HOST_NOT_ALLOWED", path


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "demo.gov.vn", ""])
def test_a_host_the_gateway_does_not_serve_is_refused(
    client: TestClient, bearer: dict[str, str], host: str
) -> None:
    response = client.get("/things", headers={**bearer, "Host": host})

    assert problem_of(response, 400)["code"] == "HOST_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("LOCALHOST:8000", True),
        ("127.0.0.1:8001", True),
        ("[::1]:8000", True),
        ("[::1]", True),
        ("vanban.demo.gov.vn", True),
        ("a.b.demo.gov.vn:443", True),
        ("::1", False),
        ("127.0.0.1:80:80", False),
        ("localhost:http", False),
        ("xdemo.gov.vn", False),
        ("[::2]:8000", False),
    ],
)
def test_host_names_match_exactly_or_under_a_wildcard(host: str, allowed: bool) -> None:
    assert host_allowed(host, HOSTS) is allowed


def test_every_answer_is_neither_sniffed_nor_cached(
    client: TestClient, bearer: dict[str, str]
) -> None:
    for response in (client.get("/things", headers=bearer), client.get("/things")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


# Client address ------------------------------------------------------------------------------

PROXIES = tuple(ipaddress.ip_network(p) for p in ("10.0.0.0/8",))


def scope_from(peer: str, forwarded: str | None = None) -> Scope:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {"client": (peer, 5000), "headers": headers}


def test_the_client_is_the_peer_unless_a_trusted_proxy_says_otherwise() -> None:
    assert client_address(scope_from("198.51.100.7", "203.0.113.9"), PROXIES).ip == "198.51.100.7"
    assert client_address(scope_from("198.51.100.7", "203.0.113.9"), ()).ip == "198.51.100.7"
    assert client_address(scope_from("10.1.2.3", "203.0.113.9"), PROXIES).ip == "203.0.113.9"


def test_a_client_cannot_pick_its_address_through_a_trusted_proxy() -> None:
    # The client wrote the first entry; the proxy appended the address it really saw.
    chain = "1.2.3.4, 203.0.113.9"
    assert client_address(scope_from("10.1.2.3", chain), PROXIES).ip == "203.0.113.9"
    # Two proxies of ours in a row are walked through.
    chain = "1.2.3.4, 203.0.113.9, 10.9.9.9"
    assert client_address(scope_from("10.1.2.3", chain), PROXIES).ip == "203.0.113.9"
    # Garbage stops the walk at the last hop we trust.
    assert client_address(scope_from("10.1.2.3", "not-an-ip"), PROXIES).ip == "10.1.2.3"


def test_an_ipv6_client_is_counted_by_its_slash_64() -> None:
    one = client_address(scope_from("2001:db8:1:2:aaaa::1"), ())
    other = client_address(scope_from("2001:db8:1:2:bbbb::2"), ())

    assert one.ip != other.ip
    assert one.key == other.key == "2001:db8:1:2::/64"
    assert client_address(scope_from("::ffff:192.0.2.1"), ()).key == "192.0.2.1"


def test_a_trusted_proxy_passes_the_client_to_sign_in(tokens: AccessTokens, seen: Seen) -> None:
    app = build_app(tokens, seen, proxies=("127.0.0.0/8",))
    with TestClient(app, client=("127.0.0.1", 5000)) as test_client:
        response = test_client.post(
            "/sign-in", content=b"x", headers={"X-Forwarded-For": "2001:db8::7"}
        )

    assert response.json()["client"] == "2001:db8::7"
    assert response.json()["key"] == "2001:db8::/64"


def test_a_websocket_is_refused_until_a_route_establishes_its_caller(
    client: TestClient, bearer: dict[str, str]
) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/things", headers=bearer),
    ):
        pass

    assert refused.value.code == 1008


# A flood of sign-ins -------------------------------------------------------------------------


def sign_in_scope(client: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/sign-in",
        "raw_path": b"/sign-in",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"content-length", b"3")],
        "client": (client, 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def test_an_address_with_every_check_taken_is_refused_before_the_app_and_its_connection_rests(
    tokens: AccessTokens, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admission, "REFUSED_SIGN_IN_REST_SECONDS", 0.2)

    async def scenario() -> tuple[list[tuple[float, Message]], list[Message]]:
        gate = PasswordCheckGate(total=4, per_address=1, waiting_per_address=0, wait_seconds=5)
        guard = SignInFloodGuard(build_app(tokens, seen), paths={"/sign-in"}, password_checks=gate)
        release = asyncio.Event()

        async def hold() -> None:
            async with gate.address_slot("198.51.100.66"):
                await release.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        began = asyncio.get_running_loop().time()
        refused: list[tuple[float, Message]] = []
        other: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"a=b", "more_body": False}

        async def send_refused(message: Message) -> None:
            refused.append((asyncio.get_running_loop().time() - began, message))

        async def send_other(message: Message) -> None:
            other.append(message)

        await guard(sign_in_scope("198.51.100.66"), receive, send_refused)
        await guard(sign_in_scope("192.0.2.10"), receive, send_other)
        release.set()
        await holder
        return refused, other

    refused, other = asyncio.run(scenario())

    (_, start), (answered_at, body), (ended_at, end) = refused
    assert start["status"] == 429
    headers = dict(start["headers"])
    assert headers[b"retry-after"] == b"1"
    assert headers[b"cache-control"] == b"no-store"
    assert b"TOO_MANY_SIGN_IN_ATTEMPTS" in body["body"]  # the whole answer, at once
    assert body["more_body"] is True and answered_at < 0.1
    assert end == {"type": "http.response.body", "body": b"", "more_body": False}
    assert ended_at >= 0.2  # the connection carries nothing else until then
    assert seen.bodies == [3]  # the app saw only the other address's attempt
    assert other[0]["status"] == 200


async def test_a_callers_trace_headers_never_reach_the_app() -> None:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(list(scope["headers"]))

    headers = [
        (b"host", b"localhost"),
        (b"traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-00"),
        (b"TraceState", b"evil=1"),
        (b"baggage", b"k=v"),
        (b"user-agent", b"test"),
    ]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        return None

    await without_trace_headers(app)({"type": "http", "headers": headers}, receive, send)
    assert seen == [[(b"host", b"localhost"), (b"user-agent", b"test")]]
