"""What the gateway settles before any route runs: the Host, the caller, the size of the body.

`AdmissionMiddleware` sits in front of every route. It refuses a Host the gateway does not serve
(DNS rebinding), establishes the caller of every route that is not public — gateway token, API key
checked in the database, or the identity provider's token, fully verified — and only then lets the
app receive the body, at most the route's limit (announced or streamed). A stranger's request is
answered from its headers alone: not a byte of its body is read, spooled or parsed.

Limits are declared here, per route, in `route_policies`; every other route takes a small JSON
body (or none, for GET, HEAD and DELETE).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vanban.gateway.api import problems
from vanban.gateway.api.auth import PRINCIPAL_KEY, Principal, principal
from vanban.gateway.api.upload import MULTIPART_OVERHEAD
from vanban.gateway.domain.throttle import PasswordCheckGate, TooManyAttemptsError
from vanban.gateway.settings import GatewaySettings
from vanban.platform.problem import Problem

# Trace headers a caller may send, which the gateway never takes: a stranger's `traceparent`
# would choose the trace id in our logs and problems and, unsampled, switch tracing off in
# every service the request reaches; `tracestate` and `baggage` would ride into every call,
# event and package (ADR 0012 §10 takes another agency's context at the axis, with care).
TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})

# The orchestrator's probes, which name the pod's address as the host: answered whatever the
# Host header (a health answer is no use to a rebinding page; every other path still checks it).
PROBE_PATHS = frozenset({"/healthz", "/readyz"})

KIB = 1024
MIB = 1024 * KIB
# Every JSON body of the API fits easily (the longest: a person with 50 units, or a delegation).
JSON_MAX_BYTES = MIB
# grant_type, username and password (1024 characters each at most), form-encoded.
SIGN_IN_MAX_BYTES = 16 * KIB
SIGN_OUT_MAX_BYTES = 4 * KIB
# The directory's own limits on files (PNG ≤ 1 MiB, import ≤ 5 MiB), with room for the
# multipart framing around the one file part.
IMAGE_MAX_BYTES = MIB
IMPORT_MAX_BYTES = 5 * MIB
# A PDF whose signatures are validated (any PDF, not only the agency's), and a file of
# certificates to import (the signing service's own limit).
SIGNED_PDF_MAX_BYTES = 50 * MIB
CERTIFICATES_MAX_BYTES = MIB
# A year's dossier list (danh mục hồ sơ), CSV or XLSX: a few hundred entries at most.
DOSSIER_LIST_MAX_BYTES = 2 * MIB
FILE_FRAMING_BYTES = 64 * KIB
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})

# How long a connection that carried a refused sign-in rests (the Retry-After of a refusal
# for too many attempts at once).
REFUSED_SIGN_IN_REST_SECONDS = 1.0
# Where the client's address is left in the request's scope (PRINCIPAL_KEY: the caller).
CLIENT_KEY = "vanban.client"


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """How much body a route takes, and whether strangers may call it."""

    max_body: int
    public: bool = False
    # For routes that take one file: the file's own limit, which is what a 413 names.
    file_limit: int | None = None
    # Sign-in: refused sign-ins rest their connection; an address with all its password checks
    # in flight and waiting is refused by `SignInFloodGuard` before anything else.
    checks_passwords: bool = False

    def too_large(self) -> BodyTooLargeError:
        return BodyTooLargeError(self)


def route_policies(settings: GatewaySettings) -> dict[str, RoutePolicy]:
    """Every route that differs from the default, by operation id."""
    return {
        # The only routes for strangers: nobody is signed in yet, or a probe asks.
        "issueToken": RoutePolicy(SIGN_IN_MAX_BYTES, public=True, checks_passwords=True),
        "signOut": RoutePolicy(SIGN_OUT_MAX_BYTES, public=True),
        "health": RoutePolicy(0, public=True),
        "readiness": RoutePolicy(0, public=True),
        # What a problem's `type` points to: pages about the API, like its documentation.
        "listProblemTypes": RoutePolicy(0, public=True),
        "getProblemType": RoutePolicy(0, public=True),
        # Files and imports, for callers already established.
        "registerIncomingDocument": RoutePolicy(
            settings.max_upload_bytes + MULTIPART_OVERHEAD, file_limit=settings.max_upload_bytes
        ),
        "draftOutgoingDocument": RoutePolicy(
            settings.max_upload_bytes + MULTIPART_OVERHEAD, file_limit=settings.max_upload_bytes
        ),
        "addOutgoingVersion": RoutePolicy(
            settings.max_upload_bytes + MULTIPART_OVERHEAD, file_limit=settings.max_upload_bytes
        ),
        "setAgencySealImage": RoutePolicy(
            IMAGE_MAX_BYTES + FILE_FRAMING_BYTES, file_limit=IMAGE_MAX_BYTES
        ),
        "setPersonSignatureImage": RoutePolicy(
            IMAGE_MAX_BYTES + FILE_FRAMING_BYTES, file_limit=IMAGE_MAX_BYTES
        ),
        "importPeople": RoutePolicy(
            IMPORT_MAX_BYTES + FILE_FRAMING_BYTES, file_limit=IMPORT_MAX_BYTES
        ),
        "validatePdfSignatures": RoutePolicy(
            SIGNED_PDF_MAX_BYTES + FILE_FRAMING_BYTES, file_limit=SIGNED_PDF_MAX_BYTES
        ),
        # The framing leaves room for the optional `password` field too.
        "importCertificates": RoutePolicy(
            CERTIFICATES_MAX_BYTES + FILE_FRAMING_BYTES, file_limit=CERTIFICATES_MAX_BYTES
        ),
        "importDossierList": RoutePolicy(
            DOSSIER_LIST_MAX_BYTES + FILE_FRAMING_BYTES, file_limit=DOSSIER_LIST_MAX_BYTES
        ),
    }


_DOCS = RoutePolicy(0, public=True)
_JSON = RoutePolicy(JSON_MAX_BYTES)
_NO_BODY = RoutePolicy(0)


class BodyTooLargeError(HTTPException):
    """Raised from inside the app's reading of the body; an HTTPException, so that FastAPI's body
    parsing lets it through to the problem handler."""

    def __init__(self, policy: RoutePolicy) -> None:
        if policy.file_limit is not None:
            self.code = "FILE_TOO_LARGE"
            detail = f"the file is larger than the limit of {_size(policy.file_limit)}"
        else:
            self.code = "BODY_TOO_LARGE"
            detail = (
                f"the request body is larger than this route's limit of {_size(policy.max_body)}"
            )
        super().__init__(413, detail)


def _size(count: int) -> str:
    if count >= MIB:
        return f"{count / MIB:g} MB"
    return f"{count / KIB:g} KiB" if count >= KIB else f"{count} bytes"


@dataclass(frozen=True, slots=True)
class _Route:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    policy: RoutePolicy


class RouteTable:
    """Finds the policy of a request by the route the router will pick — the same paths, methods
    and order — before anything else runs."""

    def __init__(self, app: FastAPI, policies: Mapping[str, RoutePolicy]) -> None:
        self._routes: list[_Route] = []
        self.password_check_paths: frozenset[str] = frozenset()
        docs = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
        known = set()
        for context in iter_route_contexts(app.routes):
            route, path = context.original_route, context.path
            if path is None:
                continue
            if isinstance(route, APIRoute):
                operation_id = context.operation_id or ""
                known.add(operation_id)
                methods = frozenset(context.methods or ())
                policy = policies.get(operation_id)
                if policy is None:
                    policy = _NO_BODY if methods <= _NO_BODY_METHODS else _JSON
                if policy.public and _needs_caller(route):
                    raise ValueError(f"{operation_id} asks for the caller but is public")
            elif path in docs:
                methods, policy = frozenset(context.methods or ()), _DOCS
            else:
                continue  # nobody's route: strangers get the default (refused)
            pattern, _, _ = compile_path(path)
            self._routes.append(_Route(pattern, methods, policy))
            if policy.checks_passwords:
                self.password_check_paths |= {path}
        unknown = set(policies) - known
        if unknown:
            raise ValueError(f"policies for routes that do not exist: {sorted(unknown)}")

    def policy(self, scope: Scope) -> RoutePolicy:
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        method = scope["method"]
        partial: RoutePolicy | None = None
        for route in self._routes:
            if route.pattern.match(path):
                if method in route.methods:
                    return route.policy
                partial = partial or route.policy
        if partial is not None:
            # A known path with another method: the router answers 405 without the body.
            return RoutePolicy(0, public=partial.public)
        return _NO_BODY if method in _NO_BODY_METHODS else _JSON


def _needs_caller(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is principal:
            return True
        pending.extend(dependency.dependencies)
    return False


@dataclass(frozen=True, slots=True)
class ClientAddress:
    """The client as sign-in limits count it: `ip` as seen, `key` the IPv4 address or the IPv6
    /64 network (one host's share of IPv6 space, so that it cannot spread over 2^64 names)."""

    ip: str
    key: str


def client_address(
    scope: Scope, trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> ClientAddress:
    """The peer; behind trusted proxies, the nearest X-Forwarded-For hop they vouch for."""
    client = scope.get("client")
    current = _ip(client[0]) if client else None
    if current is None:
        return ClientAddress("unknown", "unknown")
    if trusted_proxies:
        hops = [
            hop.strip()
            for name, value in scope.get("headers") or ()
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        while hops and any(current in network for network in trusted_proxies):
            previous = _ip(hops.pop())
            if previous is None:
                break  # a trusted proxy appends what it saw; anything odd came from the client
            current = previous
    if isinstance(current, ipaddress.IPv6Address):
        if current.ipv4_mapped is not None:
            current = current.ipv4_mapped
        else:
            network = ipaddress.IPv6Network(f"{current}/64", strict=False)
            return ClientAddress(str(current), str(network))
    return ClientAddress(str(current), str(current))


def client_of(scope: Scope) -> ClientAddress:
    """The client the admission middleware found (the peer, when it did not run)."""
    found = scope.get(CLIENT_KEY)
    return found if isinstance(found, ClientAddress) else client_address(scope, ())


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def host_allowed(host: str, trusted: Iterable[str]) -> bool:
    name = host.strip().lower()
    if name.startswith("["):
        name = name[: name.find("]") + 1] if "]" in name else ""
    elif name.count(":") == 1:
        name, _, port = name.partition(":")
        if not port.isdigit():
            return False
    elif ":" in name:
        return False  # an IPv6 address must be bracketed in Host
    if not name:
        return False
    return any(
        name == entry or (entry.startswith("*.") and name.endswith(entry[1:])) for entry in trusted
    )


Authenticate = Callable[[Scope], Awaitable[Principal]]


class AdmissionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: RouteTable,
        authenticate: Authenticate,
        trusted_hosts: Iterable[str],
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self._app = app
        self._routes = routes
        self._authenticate = authenticate
        self._hosts = tuple(trusted_hosts)
        self._proxies = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)

    def _host_allowed(self, scope: Scope) -> bool:
        host = next((v for k, v in scope.get("headers") or () if k == b"host"), b"")
        return host_allowed(host.decode("latin-1"), self._hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # No route takes one; a route that does must establish its caller here first.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        send = _with_safe_headers(send)
        if scope.get("path") not in PROBE_PATHS and not self._host_allowed(scope):
            await _answer(
                scope,
                receive,
                send,
                Problem(
                    status=400,
                    code="HOST_NOT_ALLOWED",
                    detail="this gateway does not answer to that host name",
                ),
            )
            return
        scope[CLIENT_KEY] = client_address(scope, self._proxies)
        policy = self._routes.policy(scope)
        if policy.checks_passwords:
            send = _resting_after_refusal(send)
        if not policy.public:
            try:
                scope[PRINCIPAL_KEY] = await self._authenticate(scope)
            except Exception as exc:  # every refusal, expected or not, is a problem+json answer
                problem, headers = problems.problem_for(exc)
                await _answer(scope, receive, send, problem, headers)
                return
        declared = next((v for k, v in scope.get("headers") or () if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > policy.max_body:
            problem, headers = problems.problem_for(policy.too_large())
            await _answer(scope, receive, send, problem, headers)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > policy.max_body:
                    raise policy.too_large()
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, limited_receive, tracking_send)
        except BodyTooLargeError as exc:
            if started:
                raise
            problem, headers = problems.problem_for(exc)
            await _answer(scope, receive, send, problem, headers)


class SignInFloodGuard:
    """The outermost layer, before tracing, routing or anything else: a sign-in from an address
    that already has all the password checks in flight and waiting it may have is refused here
    at once (429 `TOO_MANY_SIGN_IN_ATTEMPTS`, untraced), and its connection rests. A flood's
    surplus costs the gateway a tenth of a millisecond an attempt instead of most of one."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        paths: Iterable[str],
        password_checks: PasswordCheckGate,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self._app = app
        self._paths = frozenset(paths)
        self._password_checks = password_checks
        self._proxies = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self._paths:
            try:
                self._password_checks.check_room(client_address(scope, self._proxies).key)
            except TooManyAttemptsError as exc:
                problem, headers = problems.problem_for(exc)
                refusal = _resting_after_refusal(_with_safe_headers(send))
                await _answer(scope, receive, refusal, problem, headers)
                return
        await self._app(scope, receive, send)


def _resting_after_refusal(send: Send) -> Send:
    """A refused sign-in is answered at once, but its connection then rests for the Retry-After
    second before it may carry the next request: a flood on a few connections cannot make the
    gateway refuse thousands of attempts a second (each costs event-loop time that everyone's
    sign-ins wait behind), and a client that honours Retry-After loses nothing. The answer
    carries its Content-Length, so the client has it whole; only the end of the exchange, which
    frees the connection, is held back."""
    refused = False

    async def wrapped(message: Message) -> None:
        nonlocal refused
        if message["type"] == "http.response.start":
            refused = message["status"] in (429, 503)
        elif message["type"] == "http.response.body" and refused and not message.get("more_body"):
            await send({**message, "more_body": True})
            await asyncio.sleep(REFUSED_SIGN_IN_REST_SECONDS)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send(message)

    return wrapped


def _with_safe_headers(send: Send) -> Send:
    """Every answer: never sniffed into another type, never kept by a cache (they carry tokens,
    personal data and official documents, all meant for one caller)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or ())
            names = {name.lower() for name, _ in headers}
            if b"x-content-type-options" not in names:
                headers.append((b"x-content-type-options", b"nosniff"))
            if b"cache-control" not in names:
                headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _answer(
    scope: Scope,
    receive: Receive,
    send: Send,
    problem: Problem,
    headers: Mapping[str, str] | None = None,
) -> None:
    response = problems.problem_response(problem, instance=scope.get("path", ""), headers=headers)
    await response(scope, receive, send)


def without_trace_headers(app: ASGIApp) -> ASGIApp:
    """`app` given every HTTP request without the caller's trace headers (TRACE_HEADERS)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers") or ()
            if any(name.lower() in TRACE_HEADERS for name, _ in headers):
                scope = {
                    **scope,
                    "headers": [(k, v) for k, v in headers if k.lower() not in TRACE_HEADERS],
                }
        await app(scope, receive, send)

    return guarded
