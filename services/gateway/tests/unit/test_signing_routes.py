"""The signing routes, on the real gateway with the signing service (and workflow) faked: every
input is checked before the service is asked, refusals are problem+json, and what the service
is sent and answers is carried unchanged."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from reportlab.pdfgen import canvas

from services.gateway.tests.unit.support import AGENCY, build_gateway
from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.signing.v1 import signing_pb2 as pb
from vanban.contracts.workflow.v1 import workflow_pb2
from vanban.gateway.api.admission import CERTIFICATES_MAX_BYTES
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.deps import require
from vanban.gateway.api.routers.approvals import AGENCY_SIGNS, LEADER_SIGNS
from vanban.gateway.domain import api_keys
from vanban.platform.caller import Caller
from vanban.platform.errors import PermissionDeniedError

MIB = 1024 * 1024
DOCUMENT = "0197a3c2-0000-7000-8000-0000000000d0"
REPORT = "0197a3c2-0000-7000-8000-0000000000f1"


def make_pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Quyết định số 05/QĐ-UBND")
    page.showPage()
    page.save()
    return out.getvalue()


def signature(kind: pb.SignatureKind.ValueType = pb.SIGNATURE_KIND_LEADER) -> pb.Signature:
    return pb.Signature(id="s1", document_id=DOCUMENT, version=1, kind=kind, field_name="Sig1")


class NoDelegations:
    """The directory, asked only for the delegations a caller holds."""

    async def ListDelegations(
        self, request: Any, **_: Any
    ) -> directory_pb2.ListDelegationsResponse:
        return directory_pb2.ListDelegationsResponse()


class ReportStream:
    """A server stream as grpc.aio gives it: `read()` for the first message, then iteration."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._messages = [pb.RenderValidationReportResponse(chunk=c) for c in chunks]
        self.cancelled = False

    async def read(self) -> Any:
        return self._messages.pop(0) if self._messages else grpc.aio.EOF

    def __aiter__(self) -> AsyncIterator[pb.RenderValidationReportResponse]:
        return self._rest()

    async def _rest(self) -> AsyncIterator[pb.RenderValidationReportResponse]:
        while self._messages:
            yield self._messages.pop(0)

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeSigning:
    calls: list[tuple[str, Any]] = field(default_factory=list)
    validated: list[pb.ValidatePdfRequest] = field(default_factory=list)

    async def SignOutgoingDocument(
        self, request: pb.SignOutgoingDocumentRequest, **_: Any
    ) -> pb.SignOutgoingDocumentResponse:
        self.calls.append(("SignOutgoingDocument", request))
        return pb.SignOutgoingDocumentResponse(signature=signature(request.kind))

    async def SignOutgoingDocuments(
        self, request: pb.SignOutgoingDocumentsRequest, **_: Any
    ) -> pb.SignOutgoingDocumentsResponse:
        self.calls.append(("SignOutgoingDocuments", request))
        return pb.SignOutgoingDocumentsResponse(
            results=[
                pb.DocumentSigningResult(
                    document_id=request.document_ids[0],
                    signature=signature(pb.SIGNATURE_KIND_AGENCY),
                ),
                *(
                    pb.DocumentSigningResult(
                        document_id=i, reason="DOCUMENT_NOT_ISSUED", message="not issued"
                    )
                    for i in request.document_ids[1:]
                ),
            ]
        )

    async def ValidatePdf(
        self, requests: AsyncIterator[pb.ValidatePdfRequest], **_: Any
    ) -> pb.ValidatePdfResponse:
        self.calls.append(("ValidatePdf", None))
        self.validated = [r async for r in requests]
        return pb.ValidatePdfResponse(report=pb.ValidationReport(id=REPORT, ok=False))

    def RenderValidationReport(
        self, request: pb.RenderValidationReportRequest, **_: Any
    ) -> ReportStream:
        self.calls.append(("RenderValidationReport", request))
        return ReportStream([b"%PDF-1.7\n", b"...", b"%%EOF\n"])

    async def ImportCertificates(
        self, request: pb.ImportCertificatesRequest, **_: Any
    ) -> pb.ImportCertificatesResponse:
        self.calls.append(("ImportCertificates", request))
        return pb.ImportCertificatesResponse(
            certificates=[
                pb.Certificate(
                    id="c1",
                    role=pb.CERTIFICATE_ROLE_TRUST_ROOT,
                    status=pb.CERTIFICATE_STATUS_VALID,
                    imported=True,
                )
            ]
        )


class FakeWorkflow:
    async def GetApproval(
        self, request: workflow_pb2.GetApprovalRequest, **_: Any
    ) -> workflow_pb2.GetApprovalResponse:
        return workflow_pb2.GetApprovalResponse(
            approval=workflow_pb2.Approval(
                id="a1",
                document_id=request.document_id,
                signer_id="leader",
                steps=["sign"],
                state=workflow_pb2.APPROVAL_STATE_APPROVED,
                round=1,
                version=1,
            )
        )


@dataclass
class Gateway:
    client: TestClient
    signing: FakeSigning
    app: Any

    def bearer(self, *roles: str) -> dict[str, str]:
        caller = Caller(agency_code=AGENCY, subject=str(uuid.uuid4()), roles=frozenset(roles))
        token = self.app.state.access_tokens.issue(caller, name="Người dùng")
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    app = build_gateway(tmp_path)
    signing = FakeSigning()
    upstreams = app.state.upstreams
    upstreams.directory = NoDelegations()
    upstreams.signing = signing
    upstreams.workflow = FakeWorkflow()
    with TestClient(app) as client:
        yield Gateway(client, signing, app)


def problem_of(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


# Strangers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", f"/v1/outgoing-documents/{DOCUMENT}/sign"),
        ("post", "/v1/outgoing-documents/agency-signatures"),
        ("get", f"/v1/outgoing-documents/{DOCUMENT}/signatures"),
        ("post", "/v1/signatures/validate"),
        ("get", f"/v1/signatures/reports/{REPORT}"),
        ("get", f"/v1/signatures/reports/{REPORT}/pdf"),
        ("get", "/v1/certificates"),
        ("post", "/v1/certificates/import"),
    ],
)
def test_a_stranger_reaches_no_signing_route(gateway: Gateway, method: str, path: str) -> None:
    response = gateway.client.request(method, path)

    problem_of(response, 401, "TOKEN_MISSING")
    assert gateway.signing.calls == []


# Signing one document ------------------------------------------------------------------------


def test_the_leader_signs_and_gets_the_signature_with_the_approval(gateway: Gateway) -> None:
    answer = gateway.client.post(
        f"/v1/outgoing-documents/{DOCUMENT}/sign",
        json={"comment": "Ký ban hành", "expected_version": 1},
        headers=gateway.bearer("agency_leader"),
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["signature"]["kind"] == "leader"
    assert body["approval"]["state"] == "approved"
    [(name, sent)] = gateway.signing.calls
    assert name == "SignOutgoingDocument"
    assert sent.kind == pb.SIGNATURE_KIND_LEADER
    assert (sent.document_id, sent.comment, sent.expected_version) == (DOCUMENT, "Ký ban hành", 1)


def test_a_signature_made_stands_when_the_approval_cannot_be_read_after_it(
    gateway: Gateway,
) -> None:
    class AwayWorkflow:
        async def GetApproval(self, request: Any, **_: Any) -> Any:
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "away"
            )

    gateway.app.state.upstreams.workflow = AwayWorkflow()

    answer = gateway.client.post(
        f"/v1/outgoing-documents/{DOCUMENT}/sign", headers=gateway.bearer("agency_leader")
    )

    # An error would have the leader sign again; the approval is read at …/approval.
    assert answer.status_code == 200, answer.text
    assert answer.json()["approval"] is None
    assert answer.json()["signature"]["kind"] == "leader"


def test_an_empty_body_is_the_leaders_signature(gateway: Gateway) -> None:
    answer = gateway.client.post(
        f"/v1/outgoing-documents/{DOCUMENT}/sign", headers=gateway.bearer("agency_leader")
    )

    assert answer.status_code == 200, answer.text
    assert gateway.signing.calls[0][1].kind == pb.SIGNATURE_KIND_LEADER


def test_the_clerk_adds_the_agency_signature_without_an_approval(gateway: Gateway) -> None:
    answer = gateway.client.post(
        f"/v1/outgoing-documents/{DOCUMENT}/sign",
        json={"kind": "agency"},
        headers=gateway.bearer("clerk"),
    )

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"signature": answer.json()["signature"], "approval": None}
    assert answer.json()["signature"]["kind"] == "agency"
    assert gateway.signing.calls[0][1].kind == pb.SIGNATURE_KIND_AGENCY


@pytest.mark.parametrize("needed", [LEADER_SIGNS, AGENCY_SIGNS], ids=["leader", "agency"])
def test_no_api_key_signs_whatever_scopes_it_holds(needed: tuple[str, ...]) -> None:
    # A key acting as a clerk, with every scope a key may be given.
    key = Principal(
        caller=Caller(agency_code=AGENCY, subject="apikey:k1", roles=frozenset({"clerk"})),
        metadata=(),
        scopes=frozenset(api_keys.SCOPES),
    )

    with pytest.raises(PermissionDeniedError) as refused:
        require(key, *needed)

    assert refused.value.reason == "SCOPE_REQUIRED"


def test_the_agency_signature_is_the_clerks_alone(gateway: Gateway) -> None:
    answer = gateway.client.post(
        f"/v1/outgoing-documents/{DOCUMENT}/sign",
        json={"kind": "agency"},
        headers=gateway.bearer("agency_leader"),
    )

    problem_of(answer, 403, "ROLE_REQUIRED")
    assert gateway.signing.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "agency", "comment": "Đóng dấu"}, "comment"),
        ({"kind": "agency", "expected_version": 2}, "expected_version"),
        ({"kind": "agency", "on_behalf_of": str(uuid.uuid4())}, "on_behalf_of"),
        ({"kind": "agency_text"}, "kind"),
        ({"kind": "leader", "expected_version": 0}, "expected_version"),
        ({"kind": "leader", "on_behalf_of": "lanhdao"}, "on_behalf_of"),
        ({"kind": "leader", "seal": True}, "seal"),
    ],
)
def test_a_sign_body_that_is_not_valid_is_refused_before_signing(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    answer = gateway.client.post(
        f"/v1/outgoing-documents/{DOCUMENT}/sign", json=body, headers=gateway.bearer("clerk")
    )

    problem = problem_of(answer, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.signing.calls == []


# The agency signature on many documents ------------------------------------------------------


def test_each_document_gets_its_own_result(gateway: Gateway) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]

    answer = gateway.client.post(
        "/v1/outgoing-documents/agency-signatures",
        json={"document_ids": ids},
        headers=gateway.bearer("clerk"),
    )

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["document_id"] for r in results] == ids
    assert results[0]["signature"]["kind"] == "agency" and results[0]["code"] is None
    assert results[1] == {
        "document_id": ids[1],
        "signature": None,
        "already_signed": False,
        "code": "DOCUMENT_NOT_ISSUED",
        "detail": "not issued",
    }
    assert list(gateway.signing.calls[0][1].document_ids) == ids


@pytest.mark.parametrize(
    "document_ids",
    [
        [],
        [str(uuid.uuid4()) for _ in range(21)],
        [DOCUMENT, str(uuid.uuid4()), DOCUMENT],
        ["not-a-uuid"],
        [DOCUMENT, 42],
        DOCUMENT,
    ],
    ids=["empty", "over 20", "duplicates", "not a uuid", "a number", "not a list"],
)
def test_document_ids_that_are_not_valid_are_refused_before_signing(
    gateway: Gateway, document_ids: Any
) -> None:
    answer = gateway.client.post(
        "/v1/outgoing-documents/agency-signatures",
        json={"document_ids": document_ids},
        headers=gateway.bearer("clerk"),
    )

    problem = problem_of(answer, 422, "VALIDATION_FAILED")
    assert all(e["field"].startswith("document_ids") for e in problem["errors"])
    assert gateway.signing.calls == []


def test_twenty_documents_are_taken(gateway: Gateway) -> None:
    answer = gateway.client.post(
        "/v1/outgoing-documents/agency-signatures",
        json={"document_ids": [str(uuid.uuid4()) for _ in range(20)]},
        headers=gateway.bearer("clerk"),
    )

    assert answer.status_code == 200, answer.text


def test_only_clerks_sign_many_documents_as_the_agency(gateway: Gateway) -> None:
    answer = gateway.client.post(
        "/v1/outgoing-documents/agency-signatures",
        json={"document_ids": [DOCUMENT]},
        headers=gateway.bearer("specialist"),
    )

    problem_of(answer, 403, "ROLE_REQUIRED")
    assert gateway.signing.calls == []


# Validation ----------------------------------------------------------------------------------


def test_a_pdf_with_bytes_after_its_end_still_reaches_validation_in_64_kib_pieces(
    gateway: Gateway,
) -> None:
    # Appended bytes (after the last %%EOF) are a finding of the report, not a reason to refuse.
    pdf = make_pdf() + b"\n" + b"x" * (200 * 1024)

    answer = gateway.client.post(
        "/v1/signatures/validate",
        files={"file": ("văn bản.pdf", pdf, "application/pdf")},
        headers=gateway.bearer("specialist"),
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == REPORT
    header, *chunks = gateway.signing.validated
    assert header.header.file_name == "văn bản.pdf"
    assert header.header.declared_size == len(pdf)
    assert b"".join(c.chunk for c in chunks) == pdf
    assert max(len(c.chunk) for c in chunks) == 64 * 1024


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 400, "FILE_EMPTY"),
        (b"PK\x03\x04 a zip file", 415, "NOT_A_PDF"),
        (b"%PDF-1.7\nnot really a pdf\n%%EOF\n", 422, "INVALID_PDF"),
    ],
    ids=["empty", "not a pdf", "does not open"],
)
def test_a_file_that_is_no_pdf_is_refused_before_validation(
    gateway: Gateway, content: bytes, status: int, code: str
) -> None:
    answer = gateway.client.post(
        "/v1/signatures/validate",
        files={"file": ("a.pdf", content, "application/pdf")},
        headers=gateway.bearer("specialist"),
    )

    problem_of(answer, status, code)
    assert gateway.signing.calls == []


def test_validation_needs_the_file_part(gateway: Gateway) -> None:
    answer = gateway.client.post(
        "/v1/signatures/validate",
        files={"document": ("a.pdf", make_pdf(), "application/pdf")},
        headers=gateway.bearer("specialist"),
    )

    problem_of(answer, 422, "VALIDATION_FAILED")
    assert gateway.signing.calls == []


def test_a_pdf_over_50_mib_is_refused_before_it_is_read(gateway: Gateway) -> None:
    answer = gateway.client.post(
        "/v1/signatures/validate",
        content=b"",
        headers={
            **gateway.bearer("specialist"),
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(51 * MIB),
        },
    )

    problem_of(answer, 413, "FILE_TOO_LARGE")
    assert gateway.signing.calls == []


def test_the_report_pdf_is_streamed_as_an_attachment(gateway: Gateway) -> None:
    answer = gateway.client.get(
        f"/v1/signatures/reports/{REPORT}/pdf", headers=gateway.bearer("specialist")
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="bao-cao-chu-ky-{REPORT}.pdf"'
    )
    assert answer.content == b"%PDF-1.7\n...%%EOF\n"


@pytest.mark.parametrize("path", ["/v1/signatures/reports/r1", "/v1/signatures/reports/r1/pdf"])
def test_a_report_id_that_is_not_valid_is_refused_before_the_service_is_asked(
    gateway: Gateway, path: str
) -> None:
    answer = gateway.client.get(path, headers=gateway.bearer("specialist"))

    problem = problem_of(answer, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == ["path.report_id"]
    assert gateway.signing.calls == []


# Certificates --------------------------------------------------------------------------------


def test_an_administrator_imports_a_pkcs12_file_with_its_password(gateway: Gateway) -> None:
    answer = gateway.client.post(
        "/v1/certificates/import",
        files={"file": ("ca.p12", b"\x30\x82 pkcs12", "application/x-pkcs12")},
        data={"password": "mật khẩu"},
        headers=gateway.bearer("admin"),
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["certificates"][0]["role"] == "trust_root"
    [(_, sent)] = gateway.signing.calls
    assert (sent.data, sent.password) == (b"\x30\x82 pkcs12", "mật khẩu")


def test_only_administrators_import_certificates(gateway: Gateway) -> None:
    answer = gateway.client.post(
        "/v1/certificates/import",
        files={"file": ("ca.pem", b"-----BEGIN CERTIFICATE-----", "application/x-pem-file")},
        headers=gateway.bearer("clerk"),
    )

    problem_of(answer, 403, "ROLE_REQUIRED")
    assert gateway.signing.calls == []


@pytest.mark.parametrize("size", [CERTIFICATES_MAX_BYTES + 1, 2 * CERTIFICATES_MAX_BYTES])
def test_a_certificate_file_over_1_mib_is_refused(gateway: Gateway, size: int) -> None:
    # Just over the limit: read and refused; far over it: refused by the body's length.
    answer = gateway.client.post(
        "/v1/certificates/import",
        files={"file": ("ca.pem", b"x" * size, "application/x-pem-file")},
        headers=gateway.bearer("admin"),
    )

    problem = problem_of(answer, 413, "FILE_TOO_LARGE")
    assert "1 MiB" in problem["detail"] or "1 MB" in problem["detail"]
    assert gateway.signing.calls == []


@pytest.mark.parametrize(
    ("files", "data", "status", "code"),
    [
        ({"file": ("ca.pem", b"", "application/x-pem-file")}, {}, 400, "FILE_EMPTY"),
        ({}, {"password": "x"}, 422, "VALIDATION_FAILED"),
        ({"file": ("ca.pem", b"pem", "text/plain")}, {"note": "x"}, 422, "VALIDATION_FAILED"),
        (
            {"file": ("ca.p12", b"p12", "application/x-pkcs12")},
            {"password": "x" * 1025},
            422,
            "VALIDATION_FAILED",
        ),
    ],
    ids=["empty file", "no file", "an unknown field", "an overlong password"],
)
def test_an_import_that_is_not_valid_is_refused_before_the_service_is_asked(
    gateway: Gateway, files: dict[str, Any], data: dict[str, str], status: int, code: str
) -> None:
    answer = gateway.client.post(
        "/v1/certificates/import",
        files=files or {"other": ("x.bin", b"x", "application/octet-stream")},
        data=data,
        headers=gateway.bearer("admin"),
    )

    problem_of(answer, status, code)
    assert gateway.signing.calls == []
