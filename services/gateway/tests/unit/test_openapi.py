"""What /openapi.json promises a stranger: every operation names the problems it answers
(application/problem+json, the Problem schema, an example of each code), every request body has
an example, and the operation ids — stable API — stay what clients call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.gateway.tests.unit.support import build_gateway
from vanban.gateway.api.deps import SCOPES
from vanban.gateway.api.problem_types import PROBLEM_TYPES
from vanban.gateway.api.schemas.problems import Problem

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
# The readiness probe answers 503 with its own status body: a probe's answer, not a problem.
PROBE_ANSWERS = {("readiness", "503")}

# Operation ids are stable API: clients (the web console, agency systems) call them by name.
OPERATIONS = {
    ("get", "/healthz"): "health",
    ("get", "/readyz"): "readiness",
    ("post", "/v1/auth/token"): "issueToken",
    ("post", "/v1/auth/logout"): "signOut",
    ("get", "/v1/me"): "getMe",
    ("post", "/v1/me/password"): "changeMyPassword",
    ("get", "/v1/api-keys"): "listApiKeys",
    ("post", "/v1/api-keys"): "createApiKey",
    ("delete", "/v1/api-keys/{key_id}"): "revokeApiKey",
    ("post", "/v1/incoming-documents"): "registerIncomingDocument",
    ("get", "/v1/incoming-documents/{document_id}"): "getIncomingDocument",
    ("get", "/v1/incoming-documents/{document_id}/file"): "getIncomingDocumentFile",
    ("post", "/v1/incoming-documents/{document_id}/assignment"): "assignIncomingDocument",
    ("post", "/v1/outgoing-documents"): "draftOutgoingDocument",
    ("get", "/v1/outgoing-documents/{document_id}"): "getOutgoingDocument",
    ("post", "/v1/outgoing-documents/{document_id}/versions"): "addOutgoingVersion",
    ("post", "/v1/outgoing-documents/{document_id}/issue"): "issueOutgoingDocument",
    ("post", "/v1/outgoing-documents/{document_id}/cancel"): "cancelOutgoingDocument",
    ("get", "/v1/outgoing-documents/{document_id}/file"): "getOutgoingDocumentFile",
    ("get", "/v1/outgoing-documents/{document_id}/signed-file"): "getOutgoingDocumentSignedFile",
    ("get", "/v1/incoming-documents/{document_id}/assignment"): "getAssignment",
    ("get", "/v1/tasks"): "listTasks",
    ("get", "/v1/calendar/{year}"): "getCalendar",
    ("put", "/v1/calendar/{year}"): "setCalendar",
    ("post", "/v1/outgoing-documents/{document_id}/submit"): "submitOutgoingDocument",
    ("post", "/v1/outgoing-documents/{document_id}/sign"): "signOutgoingDocument",
    ("get", "/v1/outgoing-documents/{document_id}/approval"): "getOutgoingApproval",
    ("post", "/v1/outgoing-documents/agency-signatures"): "signOutgoingDocumentsAsAgency",
    ("get", "/v1/outgoing-documents/{document_id}/signatures"): "listOutgoingDocumentSignatures",
    ("post", "/v1/signatures/validate"): "validatePdfSignatures",
    ("get", "/v1/signatures/reports/{report_id}"): "getValidationReport",
    ("get", "/v1/signatures/reports/{report_id}/pdf"): "getValidationReportPdf",
    ("get", "/v1/certificates"): "listCertificates",
    ("post", "/v1/certificates/import"): "importCertificates",
    ("post", "/v1/certificates/{certificate_id}/revoke"): "revokeCertificate",
    ("get", "/v1/exchange/inbox"): "listExchangeInbox",
    ("get", "/v1/exchange/inbox/{item_id}"): "getExchangeInboxItem",
    ("post", "/v1/exchange/inbox/{item_id}/register"): "registerExchangeInboxItem",
    ("post", "/v1/exchange/inbox/{item_id}/reject"): "rejectExchangeInboxItem",
    ("post", "/v1/exchange/inbox/{item_id}/recall"): "answerExchangeRecall",
    ("get", "/v1/outgoing-documents/{document_id}/deliveries"): "listOutgoingDocumentDeliveries",
    ("post", "/v1/outgoing-documents/{document_id}/recall"): "recallOutgoingDocument",
    ("get", "/v1/exchange/packages/{package_id}/edxml"): "getExchangePackageEdxml",
    ("get", "/v1/approvals"): "listApprovals",
    ("get", "/v1/approvals/{approval_id}"): "getApproval",
    ("post", "/v1/approvals/{approval_id}/approve"): "approveStep",
    ("post", "/v1/approvals/{approval_id}/return"): "returnStep",
    ("get", "/v1/approval-chains"): "listApprovalChains",
    ("put", "/v1/approval-chains"): "setApprovalChain",
    ("get", "/v1/stats"): "getStats",
    ("get", "/v1/stats/overdue"): "listOverdueTasks",
    ("post", "/v1/work-dossiers"): "openWorkDossier",
    ("get", "/v1/work-dossiers"): "listWorkDossiers",
    ("get", "/v1/work-dossiers/{dossier_id}"): "getWorkDossier",
    ("post", "/v1/work-dossiers/{dossier_id}/items"): "addWorkDossierItem",
    ("delete", "/v1/work-dossiers/{dossier_id}/items/{kind}/{ref_id}"): "removeWorkDossierItem",
    ("post", "/v1/work-dossiers/{dossier_id}/close"): "closeWorkDossier",
    ("get", "/v1/tasks/{task_id}"): "getTask",
    ("post", "/v1/tasks/{task_id}/forward"): "forwardTask",
    ("post", "/v1/tasks/{task_id}/progress"): "reportTaskProgress",
    ("post", "/v1/tasks/{task_id}/complete"): "completeTask",
    ("post", "/v1/tasks/{task_id}/return"): "returnTask",
    ("post", "/v1/tasks/{task_id}/recall"): "recallTask",
    ("get", "/v1/incoming-documents"): "listIncomingDocuments",
    ("get", "/v1/outgoing-documents"): "listOutgoingDocuments",
    ("get", "/v1/search"): "searchDocuments",
    ("get", "/v1/notifications"): "listNotifications",
    ("get", "/v1/notifications/stream"): "streamNotifications",
    ("get", "/v1/notifications/unread-count"): "countUnreadNotifications",
    ("post", "/v1/notifications/read-all"): "markAllNotificationsRead",
    ("post", "/v1/notifications/{notification_id}/read"): "markNotificationRead",
    ("get", "/v1/notifications/preferences"): "getNotificationPreferences",
    ("put", "/v1/notifications/preferences"): "setNotificationPreferences",
    ("get", "/v1/email-deliveries"): "listEmailDeliveries",
    ("post", "/v1/webhooks"): "createWebhook",
    ("get", "/v1/webhooks"): "listWebhooks",
    ("get", "/v1/webhooks/{webhook_id}"): "getWebhook",
    ("patch", "/v1/webhooks/{webhook_id}"): "updateWebhook",
    ("delete", "/v1/webhooks/{webhook_id}"): "deleteWebhook",
    ("get", "/v1/webhooks/{webhook_id}/deliveries"): "listWebhookDeliveries",
    ("post", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"): "replayWebhookDelivery",
    ("get", "/v1/agency"): "getAgency",
    ("patch", "/v1/agency"): "updateAgency",
    ("put", "/v1/agency/seal-image"): "setAgencySealImage",
    ("get", "/v1/units"): "listUnits",
    ("post", "/v1/units"): "createUnit",
    ("get", "/v1/units/{code}"): "getUnit",
    ("patch", "/v1/units/{code}"): "updateUnit",
    ("delete", "/v1/units/{code}"): "deleteUnit",
    ("get", "/v1/people"): "listPeople",
    ("post", "/v1/people"): "createPerson",
    ("get", "/v1/people/{person_id}"): "getPerson",
    ("patch", "/v1/people/{person_id}"): "updatePerson",
    ("post", "/v1/people/{person_id}/password"): "setPersonPassword",
    ("post", "/v1/people/{person_id}/deactivate"): "deactivatePerson",
    ("put", "/v1/people/{person_id}/signature-image"): "setPersonSignatureImage",
    ("post", "/v1/people/import"): "importPeople",
    ("get", "/v1/delegations"): "listDelegations",
    ("post", "/v1/delegations"): "createDelegation",
    ("post", "/v1/delegations/{delegation_id}/revoke"): "revokeDelegation",
    ("get", "/v1/registers"): "listRegisters",
    ("get", "/v1/document-types"): "listDocumentTypes",
    ("get", "/v1/registers/{register_id}/book"): "getRegisterBook",
    ("get", "/v1/dossier-lists"): "getDossierList",
    ("post", "/v1/dossier-lists/import"): "importDossierList",
    ("post", "/v1/dossier-lists/{year}/approve"): "approveDossierList",
    ("post", "/v1/dossiers"): "openDossier",
    ("get", "/v1/dossiers"): "listDossiers",
    ("get", "/v1/dossiers/{dossier_id}"): "getDossier",
    ("post", "/v1/dossiers/{dossier_id}/documents"): "addDossierDocument",
    ("delete", "/v1/dossiers/{dossier_id}/documents/{document_id}"): "removeDossierDocument",
    ("post", "/v1/dossiers/{dossier_id}/close"): "closeDossier",
    ("get", "/v1/dossiers/{dossier_id}/handover-record"): "getHandoverRecord",
    ("post", "/v1/dossiers/{dossier_id}/handover"): "handOverDossier",
    ("post", "/v1/dossiers/{dossier_id}/hold"): "setDossierHold",
    ("post", "/v1/dossiers/{dossier_id}/fixity"): "checkDossierFixity",
    ("get", "/v1/dossiers/{dossier_id}/export"): "exportDossier",
    ("post", "/v1/dispositions"): "proposeDisposition",
    ("get", "/v1/dispositions"): "listDispositions",
    ("get", "/v1/dispositions/{disposition_id}"): "getDisposition",
    ("get", "/v1/dispositions/{disposition_id}/dry-run"): "dryRunDisposition",
    ("post", "/v1/dispositions/{disposition_id}/approve"): "approveDisposition",
    ("post", "/v1/dispositions/{disposition_id}/refuse"): "refuseDisposition",
    ("post", "/v1/dispositions/{disposition_id}/execute"): "executeDisposition",
    ("get", "/v1/audit/verify"): "verifyAudit",
    ("get", "/problems"): "listProblemTypes",
    ("get", "/problems/{code}"): "getProblemType",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = build_gateway(Path(tmp_path_factory.mktemp("keys")))
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_the_operation_ids_are_the_ones_clients_call(document: dict[str, Any]) -> None:
    found = {(method, path): op["operationId"] for method, path, op in operations(document)}

    assert found == OPERATIONS


def test_every_operation_answers_its_errors_as_problems(document: dict[str, Any]) -> None:
    for _, path, operation in operations(document):
        name = operation["operationId"]
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert any(s.startswith("4") for s in errors), f"{name} declares no 4xx"
        assert any(s.startswith("5") for s in errors), f"{name} declares no 5xx"
        if operation.get("security"):
            assert "401" in errors, f"{name} needs a caller but declares no 401"
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in errors, f"{name} takes input but declares no 422"
        for status, response in errors.items():
            if (name, status) in PROBE_ANSWERS:
                continue
            assert set(response["content"]) == {PROBLEM_JSON}, f"{name} {status}"
            content = response["content"][PROBLEM_JSON]
            assert content["schema"] == {"$ref": PROBLEM_REF}, f"{name} {status}"
            assert content["examples"], f"{name} {status} has no example"
            for code, named in content["examples"].items():
                body = named["value"]
                Problem.model_validate(body)
                assert body["status"] == int(status), f"{name} {status} {code}"
                assert body["code"] == code in PROBLEM_TYPES
                assert body["type"] == f"/problems/{code}"
                assert body["instance"] == path


def test_fastapis_unused_validation_error_schemas_are_gone(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert "HTTPValidationError" not in str(document)
    assert {"Problem", "FieldError"} <= schemas.keys()


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    bodies = 0
    for _, _, operation in operations(document):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            bodies += 1
            assert content.get("example") or content.get("examples"), (
                f"{operation['operationId']} ({media_type}) has no example"
            )
    assert bodies >= 15  # the scan saw the bodies there are


def test_the_registration_metadata_part_refers_to_its_schema(document: dict[str, Any]) -> None:
    body = document["paths"]["/v1/incoming-documents"]["post"]["requestBody"]
    multipart = body["content"]["multipart/form-data"]

    assert multipart["schema"]["properties"]["metadata"] == {
        "$ref": "#/components/schemas/IncomingMetadataIn"
    }
    assert multipart["encoding"] == {
        "metadata": {"contentType": "application/json"},
        "attachments": {"contentType": "application/pdf"},
    }
    metadata = document["components"]["schemas"]["IncomingMetadataIn"]
    assert {"issuer_code", "issued_date", "subject", "secrecy"} <= metadata["properties"].keys()


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("/v1/outgoing-documents", "OutgoingMetadataIn"),
        ("/v1/outgoing-documents/{document_id}/versions", "VersionMetadataIn"),
    ],
)
def test_the_outgoing_metadata_parts_refer_to_their_schemas(
    document: dict[str, Any], path: str, schema: str
) -> None:
    multipart = document["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]

    assert multipart["schema"]["properties"]["metadata"] == {
        "$ref": f"#/components/schemas/{schema}"
    }
    assert schema in document["components"]["schemas"]


def test_every_scope_an_operation_needs_is_described(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    described = scheme["flows"]["password"]["scopes"]
    needed = {
        scope
        for _, _, operation in operations(document)
        for requirement in operation.get("security", ())
        for scope in requirement.get("OAuth2PasswordBearer", ())
    }

    assert described == SCOPES
    assert needed and needed <= described.keys()


def test_the_register_book_answers_429_when_the_books_are_busy(document: dict[str, Any]) -> None:
    answers = document["paths"]["/v1/registers/{register_id}/book"]["get"]["responses"]

    assert "BOOKS_BUSY" in answers["429"]["content"][PROBLEM_JSON]["examples"]
