"""Two agencies on one machine are fully separate: tokens, ids, events and every service's door."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2

from tests.e2e.conftest import A, B
from tests.e2e.support import Gateway, eventually, stored_events
from vanban.contracts.archive.v1 import archive_pb2, archive_pb2_grpc
from vanban.contracts.directory.v1 import directory_pb2, directory_pb2_grpc
from vanban.contracts.documents.v1 import documents_pb2, documents_pb2_grpc
from vanban.contracts.notify.v1 import notify_pb2, notify_pb2_grpc
from vanban.contracts.workflow.v1 import workflow_pb2, workflow_pb2_grpc
from vanban.launcher.platform import SERVICES, AgencyProcesses, Platform
from vanban.platform.caller import CALLER_METADATA_KEY, Caller, CallerTokenIssuer
from vanban.platform.grpc.health import health_check


def test_each_agency_has_its_own_gateway_and_demo_accounts(two: Platform) -> None:
    first, second = two.agencies
    assert second.gateway_port == first.gateway_port + 1
    for agency in two.agencies:
        gateway = Gateway(agency.gateway_url)
        me = gateway.http.get(
            "/v1/me", headers={"Authorization": f"Bearer {gateway.token('vanthu')}"}
        )
        assert me.json()["agency_code"] == agency.spec.code


def test_a_token_of_one_agency_is_refused_by_the_other(two: Platform) -> None:
    first, second = (Gateway(a.gateway_url) for a in two.agencies)
    token_a = first.token("vanthu")
    response = second.http.get("/v1/notifications", headers={"Authorization": f"Bearer {token_a}"})
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_INVALID"


def test_a_document_of_one_agency_is_not_found_at_the_other(two: Platform) -> None:
    first, second = (Gateway(a.gateway_url) for a in two.agencies)
    created = first.register(first.token("vanthu"))
    assert created.status_code == 201
    document_id = created.json()["id"]
    token_b = second.token("vanthu")
    response = second.http.get(
        f"/v1/incoming-documents/{document_id}", headers={"Authorization": f"Bearer {token_b}"}
    )
    assert response.status_code == 404
    # B's register is its own: A's registrations between two of B's take none of B's numbers
    # (the platform is shared with the exchange tests, which register at B too).
    before = second.register(token_b).json()["arrival_number"]
    assert first.register(first.token("vanthu")).status_code == 201
    assert second.register(token_b).json()["arrival_number"] == before + 1


# One call to each service that needs a caller; a platform service may make every one of them.
CALLS: dict[str, Callable[[grpc.Channel, tuple[tuple[str, str], ...]], object]] = {
    "directory": lambda ch, md: directory_pb2_grpc.DirectoryServiceStub(ch).ListPeople(
        directory_pb2.ListPeopleRequest(), metadata=md, timeout=5
    ),
    "documents": lambda ch, md: documents_pb2_grpc.DocumentRegistryServiceStub(
        ch
    ).GetIncomingDocument(
        documents_pb2.GetIncomingDocumentRequest(id="00000000-0000-0000-0000-000000000000"),
        metadata=md,
        timeout=5,
    ),
    "archive": lambda ch, md: archive_pb2_grpc.ArchiveServiceStub(ch).StatObject(
        archive_pb2.StatObjectRequest(sha256="0" * 64), metadata=md, timeout=5
    ),
    "notify": lambda ch, md: notify_pb2_grpc.NotifyServiceStub(ch).ListNotifications(
        notify_pb2.ListNotificationsRequest(), metadata=md, timeout=5
    ),
    "workflow": lambda ch, md: workflow_pb2_grpc.WorkflowServiceStub(ch).GetAssignment(
        workflow_pb2.GetAssignmentRequest(document_id="00000000-0000-0000-0000-000000000000"),
        metadata=md,
        timeout=5,
    ),
}


def answers(agency: AgencyProcesses, token: str | None) -> dict[str, str]:
    """The status each service of `agency` answers the call made with `token`."""
    metadata = ((CALLER_METADATA_KEY, token),) if token is not None else ()
    codes = {}
    for service, call in CALLS.items():
        with grpc.insecure_channel(agency.address(service)) as channel:
            try:
                call(channel, metadata)
                codes[service] = "OK"
            except grpc.RpcError as exc:
                codes[service] = exc.code().name
    return codes


def service_token(signer: AgencyProcesses, *, agency_code: str) -> str:
    """A platform service's caller token claiming `agency_code`, signed with `signer`'s key."""
    issuer = CallerTokenIssuer.from_keys_dir(signer.keys_dir)
    return issuer.issue(Caller(agency_code=agency_code, subject="service:notify", is_service=True))


def test_no_service_of_either_agency_answers_a_call_without_a_caller_token(two: Platform) -> None:
    for agency in two.agencies:
        assert answers(agency, None) == dict.fromkeys(CALLS, "UNAUTHENTICATED")
        for service in SERVICES:  # while health stays open to probes
            with grpc.insecure_channel(agency.address(service)) as channel:
                answer = health_check(channel)(health_pb2.HealthCheckRequest(), timeout=5)
                assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_a_caller_token_of_one_agency_opens_no_service_of_the_other(two: Platform) -> None:
    first, second = two.agencies
    own = service_token(first, agency_code=A)
    # At its own agency the token gets past every door (the calls then find nothing, or are
    # not a service's to make), so a refusal at the other agency is about the token.
    assert "UNAUTHENTICATED" not in answers(first, own).values()
    assert "UNAUTHENTICATED" not in answers(second, service_token(second, agency_code=B)).values()
    refused = dict.fromkeys(CALLS, "UNAUTHENTICATED")
    assert answers(second, own) == refused
    # Claiming the other agency does not help without its key ...
    assert answers(second, service_token(first, agency_code=B)) == refused
    # ... and the other agency's key does not make a token of this one valid there.
    assert answers(second, service_token(second, agency_code=A)) == refused


def test_events_of_one_agency_never_reach_the_other(two: Platform) -> None:
    first, second = two.agencies
    gateway_a, gateway_b = (Gateway(agency.gateway_url) for agency in two.agencies)
    clerk_a, clerk_b = gateway_a.token("vanthu"), gateway_b.token("vanthu")
    ids_a = []
    for _ in range(5):
        created = gateway_a.register(clerk_a)
        assert created.status_code == 201, created.text
        ids_a.append(created.json()["id"])

    def notified(gateway: Gateway, token: str, ids: list[str]) -> bool:
        resources = {n["resource"] for n in gateway.notifications(token)}
        return {f"incoming-documents/{i}" for i in ids} <= resources

    assert eventually(lambda: notified(gateway_a, clerk_a, ids_a), timeout=60)
    # B's consumers handle events in order: once B's own registration is through, anything of
    # A's that had reached B would have been handled (and notified) before it.
    created_b = gateway_b.register(clerk_b)
    assert created_b.status_code == 201, created_b.text
    assert eventually(lambda: notified(gateway_b, clerk_b, [created_b.json()["id"]]), timeout=60)
    resources_b = {n["resource"] for n in gateway_b.notifications(clerk_b)}
    assert not resources_b & {f"incoming-documents/{i}" for i in ids_a}

    # Underneath: each agency's NATS holds only events its own services published.
    for agency in (first, second):
        events = stored_events(agency.nats.url)
        assert any(e.stream == "VANBAN_DOCUMENTS" for e in events), agency.spec.code
        sources = {e.headers.get("ce-source", "") for e in events}
        own = f"/agencies/{agency.spec.code}/"
        assert {source for source in sources if not source.startswith(own)} == set()
