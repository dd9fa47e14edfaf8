"""One incoming document travels end to end through the gateway."""

from __future__ import annotations

import hashlib
import secrets

from tests.e2e.otlp import OtlpReceiver, ReceivedSpan
from tests.e2e.support import Gateway, eventually, make_pdf, metadata

# OpenTelemetry span kinds as OTLP numbers them.
SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5


def test_a_registered_document_can_be_read_back_and_reaches_the_clerks(
    gateway: Gateway, clerk_token: str
) -> None:
    pdf = make_pdf("Quyet dinh so 05")
    created = gateway.register(clerk_token, pdf=pdf, meta=metadata(subject="V/v kiểm tra hệ thống"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["arrival_number"] >= 1
    assert created.headers["location"] == f"/v1/incoming-documents/{body['id']}"

    auth = {"Authorization": f"Bearer {clerk_token}"}
    read = gateway.http.get(f"/v1/incoming-documents/{body['id']}", headers=auth)
    assert read.status_code == 200
    assert read.json()["arrival_number"] == body["arrival_number"]
    assert read.json()["subject"] == "V/v kiểm tra hệ thống"
    assert read.json()["file"]["sha256"] == hashlib.sha256(pdf).hexdigest()

    file = gateway.http.get(f"/v1/incoming-documents/{body['id']}/file", headers=auth)
    assert file.status_code == 200
    assert file.content == pdf
    assert file.headers["content-type"] == "application/pdf"

    def clerk_notified() -> list[dict]:
        return [n for n in gateway.notifications(clerk_token) if n["resource"].endswith(body["id"])]

    notes = eventually(clerk_notified)
    assert len(notes) == 1
    assert str(body["arrival_number"]) in notes[0]["title"]
    leader_notes = gateway.notifications(gateway.token("lanhdao"))
    assert not [n for n in leader_notes if n["resource"].endswith(body["id"])]


def test_one_registration_is_one_trace_rooted_at_the_gateway(
    gateway: Gateway, clerk_token: str, otlp: OtlpReceiver
) -> None:
    # A body over 64 KiB on the same keep-alive connection once leaked its trace into the next
    # request (python/cpython#140947); the gateway must start each request from its own context.
    large = make_pdf("x" * 100)[:-6] + b" " * (256 * 1024) + b"%%EOF\n"
    assert gateway.register(clerk_token, pdf=large).status_code == 201
    # No traceparent: the gateway starts the trace. A unique user agent finds its server span.
    agent = f"vanban-trace-test/{secrets.token_hex(8)}"
    # A subject no other request has: a bound value of a statement that leaked into a span
    # would carry it.
    subject = f"V/v rà soát hồ sơ cán bộ {secrets.token_hex(6)}"
    created = gateway.register(
        clerk_token, meta=metadata(subject=subject), headers={"User-Agent": agent}
    )
    assert created.status_code == 201, created.text

    def ours(span: ReceivedSpan) -> bool:
        """The gateway's span of the request (any kind: a request that joined another's
        context gets an internal span, not a server span)."""
        agents = (
            span.attributes.get("http.user_agent"),
            span.attributes.get("user_agent.original"),
        )
        return span.service == "vanban-gateway" and agent in agents

    def our_trace() -> list[ReceivedSpan]:
        found = otlp.find(ours)
        return otlp.spans(found[0].trace_id) if found else []

    def complete(spans: list[ReceivedSpan]) -> bool:
        by_id = {s.span_id: s for s in spans}
        # Every span's parent has arrived (the tree is whole), and notify has handled the event.
        return all(not s.parent_span_id or s.parent_span_id in by_id for s in spans) and any(
            s.service == "vanban-notify" and s.kind == CONSUMER for s in spans
        )

    spans = eventually(lambda: (found := our_trace()) and complete(found) and found, timeout=30)
    assert spans, f"incomplete trace: {[(s.service, s.name, s.kind) for s in our_trace()]}"
    by_id = {s.span_id: s for s in spans}

    def one(service: str, kind: int, name_end: str) -> ReceivedSpan:
        found = [
            s
            for s in spans
            if s.service == service and s.kind == kind and s.name.endswith(name_end)
        ]
        assert len(found) == 1, (service, kind, name_end, [(s.service, s.name) for s in spans])
        return found[0]

    def parent(span: ReceivedSpan) -> ReceivedSpan:
        return by_id[span.parent_span_id]

    def descends(span: ReceivedSpan, ancestor: ReceivedSpan) -> bool:
        while span.parent_span_id:
            span = parent(span)
            if span is ancestor:
                return True
        return False

    [request] = [s for s in spans if ours(s)]
    roots = [s for s in spans if not s.parent_span_id]
    assert roots == [request], [(s.service, s.name, s.kind) for s in roots]
    root = request
    assert (root.kind, root.attributes.get("http.route")) == (SERVER, "/v1/incoming-documents")
    for service, method in (
        ("vanban-archive", "PutObject"),
        ("vanban-documents", "RegisterIncomingDocument"),
    ):
        server = one(service, SERVER, f"/{method}")
        client = parent(server)
        assert (client.service, client.kind, client.name) == ("vanban-gateway", CLIENT, server.name)
        assert descends(client, root)
    registered = one("vanban-documents", SERVER, "/RegisterIncomingDocument")
    producer = one("vanban-documents", PRODUCER, "vanban.documents.incoming.registered publish")
    assert descends(producer, registered)
    consumer = one("vanban-notify", CONSUMER, "vanban.documents.incoming.registered process")
    assert parent(consumer) is producer

    # Each service's statements are client spans inside the RPC that ran them: the document's
    # row written by documents, the object's row by archive.
    def statement(span: ReceivedSpan) -> str:
        return span.attributes.get("db.statement", span.attributes.get("db.query.text", ""))

    for service, method, table in (
        ("vanban-documents", "RegisterIncomingDocument", "documents"),
        ("vanban-archive", "PutObject", "objects"),
    ):
        server = one(service, SERVER, f"/{method}")
        queries = [
            s
            for s in spans
            if s.service == service
            and s.kind == CLIENT
            and "postgresql" in (s.attributes.get("db.system"), s.attributes.get("db.system.name"))
            and descends(s, server)
        ]
        assert any(statement(q).startswith(f"INSERT INTO {table} ") for q in queries), (
            service,
            [(s.service, s.name, s.kind) for s in spans],
        )
    leaked = [
        (s.service, s.name) for s in spans if any(subject in v for v in s.attributes.values())
    ]
    assert not leaked, leaked


def test_a_document_id_that_does_not_exist_is_404_problem(
    gateway: Gateway, clerk_token: str
) -> None:
    response = gateway.http.get(
        "/v1/incoming-documents/00000000-0000-0000-0000-000000000000",
        headers={"Authorization": f"Bearer {clerk_token}"},
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "INCOMING_NOT_FOUND"


def test_without_a_token_the_api_answers_401_problem(gateway: Gateway) -> None:
    response = gateway.http.get("/v1/notifications")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "TOKEN_MISSING"


def test_a_wrong_password_is_refused(gateway: Gateway) -> None:
    response = gateway.http.post(
        "/v1/auth/token", data={"username": "vanthu", "password": "sai-mat-khau"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "BAD_CREDENTIALS"


def test_a_callers_trace_headers_are_not_taken(
    gateway: Gateway, clerk_token: str, otlp: OtlpReceiver
) -> None:
    """A caller's `traceparent` (unsampled, with its own trace id), `tracestate` and `baggage`
    are dropped at the gateway: the request is traced all the same, in a trace of ours."""
    agent = f"vanban-trace-test/{secrets.token_hex(8)}"
    theirs = secrets.token_hex(16)
    created = gateway.register(
        clerk_token,
        headers={
            "User-Agent": agent,
            "traceparent": f"00-{theirs}-{secrets.token_hex(8)}-00",
            "tracestate": "evil=" + "x" * 200,
            "baggage": "k=" + "v" * 2000,
        },
    )
    assert created.status_code == 201, created.text

    def ours(span: ReceivedSpan) -> bool:
        agents = (
            span.attributes.get("http.user_agent"),
            span.attributes.get("user_agent.original"),
        )
        return span.service == "vanban-gateway" and agent in agents

    found = eventually(lambda: otlp.find(ours), timeout=30)
    assert found, "the request was not traced: the caller's unsampled context was taken"
    assert all(span.trace_id != theirs for span in found)
    assert not [s for s in found if s.kind == SERVER and s.parent_span_id]
