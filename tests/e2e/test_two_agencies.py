"""Two agencies on one machine are fully separate: tokens, ids and every service's door."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.support import Gateway
from vanban.contracts.archive.v1 import archive_pb2, archive_pb2_grpc
from vanban.contracts.directory.v1 import directory_pb2, directory_pb2_grpc
from vanban.contracts.documents.v1 import documents_pb2, documents_pb2_grpc
from vanban.contracts.notify.v1 import notify_pb2, notify_pb2_grpc
from vanban.contracts.workflow.v1 import workflow_pb2, workflow_pb2_grpc
from vanban.launcher.infra import free_port
from vanban.launcher.infra.process import group_members
from vanban.launcher.platform import SERVICES, AgencySpec, Platform

A, B = "000.00.00.H99", "000.00.00.H98"


@pytest.fixture(scope="module")
def two() -> Iterator[Platform]:
    data_dir = Path(tempfile.mkdtemp(prefix="vanban-two-"))
    data_dir.chmod(0o755)
    base = free_port()
    platform = Platform(
        data_dir,
        [AgencySpec(A), AgencySpec(B, name="Ủy ban nhân dân tỉnh Thử nghiệm")],
        gateway_base_port=base,
        env={"OTEL_SDK_DISABLED": "true"},
        fast=True,
    )
    try:
        platform.start()
        yield platform
    finally:
        pids = [p.pid for a in platform.agencies for p in a.processes.values() if p.pid]
        unclean = platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        assert [pid for pid in pids if group_members(pid)] == []
        assert unclean == [], f"did not exit on SIGTERM and were killed: {unclean}"


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
    assert second.register(token_b).json()["arrival_number"] == 1  # B's register is its own


def test_no_service_of_either_agency_answers_a_call_without_a_caller_token(two: Platform) -> None:
    calls = {
        "directory": lambda ch: directory_pb2_grpc.DirectoryServiceStub(ch).ListPeople(
            directory_pb2.ListPeopleRequest(), timeout=5
        ),
        "documents": lambda ch: documents_pb2_grpc.DocumentRegistryServiceStub(
            ch
        ).GetIncomingDocument(
            documents_pb2.GetIncomingDocumentRequest(id="00000000-0000-0000-0000-000000000000"),
            timeout=5,
        ),
        "archive": lambda ch: archive_pb2_grpc.ArchiveServiceStub(ch).StatObject(
            archive_pb2.StatObjectRequest(sha256="0" * 64), timeout=5
        ),
        "notify": lambda ch: notify_pb2_grpc.NotifyServiceStub(ch).ListNotifications(
            notify_pb2.ListNotificationsRequest(), timeout=5
        ),
        "workflow": lambda ch: workflow_pb2_grpc.WorkflowServiceStub(ch).GetAssignment(
            workflow_pb2.GetAssignmentRequest(document_id="00000000-0000-0000-0000-000000000000"),
            timeout=5,
        ),
    }
    for agency in two.agencies:
        for service, call in calls.items():
            with grpc.insecure_channel(agency.address(service)) as channel:
                with pytest.raises(grpc.RpcError) as refused:
                    call(channel)
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, service  # type: ignore[attr-defined]
        for service in SERVICES:  # while health stays open to probes
            with grpc.insecure_channel(agency.address(service)) as channel:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=5
                )
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
