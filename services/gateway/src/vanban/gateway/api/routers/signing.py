"""Digital signatures (chữ ký số, ADR 0011): the agency signature on many issued documents, a
document's signatures, validating any PDF's signatures with its report, and the agency's
certificates (chứng thư số). Handlers only translate: the signing service decides (the leader's
signature is `…/sign` in `approvals`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Request, status
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from vanban.contracts.signing.v1 import signing_pb2 as pb
from vanban.gateway.api.admission import CERTIFICATES_MAX_BYTES, SIGNED_PDF_MAX_BYTES
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.signing import (
    agency_result_out,
    attempt_out,
    certificate_out,
    report_out,
    signature_out,
)
from vanban.gateway.api.deps import Settings, Signing, allowed, role
from vanban.gateway.api.document_files import uploads
from vanban.gateway.api.openapi import BODY, FILE, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.signing import (
    PASSWORD_MAX,
    AgencySignatureResultsOut,
    AgencySignaturesIn,
    CertificateOut,
    CertificatesOut,
    RevokeCertificateIn,
    SignaturesOut,
    ValidationReportOut,
)
from vanban.gateway.api.upload import check_pdf, file_body, file_name_of, read_file_and_fields

router = APIRouter(tags=["signatures"])

# The agency signature is the clerk's (văn thư), who issues; no API key holds the scope.
AgencySigner = Annotated[Principal, allowed("outgoing:issue", role("clerk"))]
# A document's signatures are part of reading it: documents decides who may open it.
SignatureReader = Annotated[Principal, allowed("outgoing:read")]
# Validation of any PDF, and the reports: people only (no API key holds the scope).
Validator = Annotated[Principal, allowed("signatures:validate")]
CertificateReader = Annotated[Principal, allowed("certificates:read")]
# Imported certificates become trust roots: administrators signed in as people.
CertificateAdmin = Annotated[Principal, allowed("certificates:manage", role("admin"))]

# The pieces a PDF is sent to the signing service in.
VALIDATE_CHUNK_BYTES = 64 * 1024

_AGENCY_EXAMPLES: dict[str, Any] = {
    "two issued documents": {
        "value": {
            "document_ids": [
                "0197a3c2-5d1e-7b4f-8a2c-3e4f5a6b7c8d",
                "0197a3c2-6e2f-7c5a-9b3d-4f5a6b7c8d9e",
            ]
        }
    }
}


@router.post(
    "/v1/outgoing-documents/agency-signatures",
    response_model=AgencySignatureResultsOut,
    operation_id="signOutgoingDocumentsAsAgency",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, "ROLE_REQUIRED", "TOKEN_UNAVAILABLE"),
)
async def sign_as_agency(
    principal: AgencySigner,
    signing: Signing,
    body: Annotated[AgencySignaturesIn, Body(openapi_examples=_AGENCY_EXAMPLES)],
) -> AgencySignatureResultsOut:
    """The clerk (văn thư) adds the agency signature (chữ ký số của cơ quan) to issued documents,
    each with its own result: 200 even when some were refused (`code`, `detail`), and
    `already_signed` for one signed before."""
    answer = await signing.stub.SignOutgoingDocuments(
        pb.SignOutgoingDocumentsRequest(document_ids=[str(i) for i in body.document_ids]),
        metadata=principal.metadata,
        timeout=signing.timeout,
    )
    return AgencySignatureResultsOut(results=[agency_result_out(r) for r in answer.results])


@router.get(
    "/v1/outgoing-documents/{document_id}/signatures",
    response_model=SignaturesOut,
    operation_id="listOutgoingDocumentSignatures",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "OUTGOING_NOT_FOUND"),
)
async def list_signatures(
    principal: SignatureReader, document_id: UUID, signing: Signing
) -> SignaturesOut:
    """The signatures made on the document, oldest first, each with the file it produced."""
    answer = await signing.stub.ListDocumentSignatures(
        pb.ListDocumentSignaturesRequest(document_id=str(document_id)),
        metadata=principal.metadata,
        timeout=signing.timeout,
    )
    return SignaturesOut(
        signatures=[signature_out(s) for s in answer.signatures],
        automatic_agency_signature=attempt_out(answer.automatic_agency_signature)
        if answer.HasField("automatic_agency_signature")
        else None,
    )


async def _validation_chunks(
    upload: UploadFile, *, size: int
) -> AsyncIterator[pb.ValidatePdfRequest]:
    yield pb.ValidatePdfRequest(
        header=pb.ValidatePdfHeader(file_name=file_name_of(upload), declared_size=size)
    )
    while chunk := await upload.read(VALIDATE_CHUNK_BYTES):
        yield pb.ValidatePdfRequest(chunk=chunk)


@router.post(
    "/v1/signatures/validate",
    response_model=ValidationReportOut,
    operation_id="validatePdfSignatures",
    openapi_extra=file_body(
        "Any PDF of at most 50 MiB whose digital signatures are to be checked",
        example="(the signed PDF)",
    ),
    responses=answers(
        *SCOPED, *FILE, *UPSTREAM, "FILE_EMPTY", "NOT_A_PDF", "INVALID_PDF", "ENCRYPTED_PDF"
    ),
)
async def validate_pdf(
    request: Request, principal: Validator, signing: Signing
) -> ValidationReportOut:
    """Checks every signature of a PDF: intact, valid, trusted by the agency's roots, signing
    and timestamp times, and what was changed after it. A damaged signature is a finding of the
    report, not a refusal. The report is kept: `…/reports/{id}`, and as PDF `…/reports/{id}/pdf`."""
    form = await request.form(max_files=1, max_fields=0)
    try:
        upload, _ = uploads(form, attachments=False)
        # Size, the header and whether it opens; nothing about its end or its signatures, which
        # are what is being checked.
        size = await check_pdf(upload, max_bytes=SIGNED_PDF_MAX_BYTES, require_eof=False)
        answer = await signing.stub.ValidatePdf(
            _validation_chunks(upload, size=size),
            metadata=principal.metadata,
            timeout=signing.timeout,
        )
    finally:
        await form.close()
    return report_out(answer.report)


@router.get(
    "/v1/signatures/reports/{report_id}",
    response_model=ValidationReportOut,
    operation_id="getValidationReport",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "REPORT_NOT_FOUND"),
)
async def get_report(
    principal: Validator, report_id: UUID, signing: Signing
) -> ValidationReportOut:
    answer = await signing.stub.GetValidationReport(
        pb.GetValidationReportRequest(id=str(report_id)),
        metadata=principal.metadata,
        timeout=signing.timeout,
    )
    return report_out(answer.report)


@router.get(
    "/v1/signatures/reports/{report_id}/pdf",
    operation_id="getValidationReportPdf",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The report as PDF (Content-Disposition names the file)",
            "content": {"application/pdf": {}},
        },
        **answers(*SCOPED, *PARAMETERS, *UPSTREAM, "REPORT_NOT_FOUND"),
    },
)
async def get_report_pdf(
    principal: Validator, report_id: UUID, signing: Signing, settings: Settings
) -> StreamingResponse:
    """The report as a PDF to print or file (biên bản kiểm tra chữ ký số)."""
    stream = signing.stub.RenderValidationReport(
        pb.RenderValidationReportRequest(id=str(report_id)),
        metadata=principal.metadata,
        timeout=settings.download_timeout_seconds,
    )
    try:
        # The service answers a refusal before its first chunk: a problem+json here.
        first = await stream.read()
    except BaseException:
        stream.cancel()
        raise
    if not isinstance(first, pb.RenderValidationReportResponse):
        stream.cancel()
        raise HttpProblem(502, "UPSTREAM_ERROR", "the signing service answered no report")

    async def body() -> AsyncIterator[bytes]:
        try:
            if first.chunk:
                yield first.chunk
            async for part in stream:
                yield part.chunk
        finally:
            stream.cancel()

    return StreamingResponse(
        body(),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="bao-cao-chu-ky-{report_id}.pdf"'},
    )


@router.get(
    "/v1/certificates",
    response_model=CertificatesOut,
    operation_id="listCertificates",
    responses=answers(*SCOPED, *UPSTREAM),
)
async def list_certificates(principal: CertificateReader, signing: Signing) -> CertificatesOut:
    """The agency's certificates: its CA and imported roots, its organisation certificate, the
    leaders' and the timestamping authority's, each with its status."""
    answer = await signing.stub.ListCertificates(
        pb.ListCertificatesRequest(), metadata=principal.metadata, timeout=signing.timeout
    )
    return CertificatesOut(certificates=[certificate_out(c) for c in answer.certificates])


_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "Certificates as PEM, DER or PKCS#12, at most 1 MiB "
                            "(certificates only: a private key is never imported)",
                        },
                        "password": {
                            "type": "string",
                            "maxLength": PASSWORD_MAX,
                            "description": "The PKCS#12 file's password, when it has one",
                        },
                    },
                },
                "example": {"file": "(the CA's chain, e.g. ca-chain.pem)"},
            }
        },
    }
}


@router.post(
    "/v1/certificates/import",
    status_code=status.HTTP_201_CREATED,
    response_model=CertificatesOut,
    operation_id="importCertificates",
    openapi_extra=_IMPORT_BODY,
    responses=answers(
        *SCOPED,
        *FILE,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "FILE_EMPTY",
        "INVALID_CERTIFICATE",
        "PRIVATE_KEY_REFUSED",
        "CERTIFICATE_WITHOUT_KEY",
        "TOO_MANY_CERTIFICATES",
    ),
)
async def import_certificates(
    request: Request, principal: CertificateAdmin, signing: Signing
) -> CertificatesOut:
    """Imports a certification authority's chain as trust roots, and binds a certificate whose
    public key matches a key in the token to that key (administrators). The certificates
    imported are in the answer."""
    data, _, fields = await read_file_and_fields(
        request, max_bytes=CERTIFICATES_MAX_BYTES, fields=("password",)
    )
    if not data:
        raise HttpProblem(400, "FILE_EMPTY", "the file is empty", field="file")
    password = fields.get("password", "")
    if len(password) > PASSWORD_MAX:
        raise HttpProblem(
            422,
            "VALIDATION_FAILED",
            f"password: at most {PASSWORD_MAX} characters",
            field="password",
        )
    answer = await signing.stub.ImportCertificates(
        pb.ImportCertificatesRequest(data=data, password=password),
        metadata=principal.metadata,
        timeout=signing.timeout,
    )
    return CertificatesOut(certificates=[certificate_out(c) for c in answer.certificates])


@router.post(
    "/v1/certificates/{certificate_id}/revoke",
    response_model=CertificateOut,
    operation_id="revokeCertificate",
    responses=answers(
        *SCOPED,
        *BODY,
        *PARAMETERS,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "CERTIFICATE_NOT_FOUND",
        "CERTIFICATE_REVOKED",
        "CERTIFICATE_NOT_REVOCABLE",
        "INVALID_REVOCATION_REASON",
    ),
)
async def revoke_certificate(
    principal: CertificateAdmin,
    certificate_id: UUID,
    signing: Signing,
    body: Annotated[
        RevokeCertificateIn, Body(openapi_examples={"lost": {"value": {"reason": "Lộ khóa"}}})
    ],
) -> CertificateOut:
    """Revokes one of the agency's certificates (administrators): nothing is signed with it
    again, and its key is retired in the token; the holder's next signature is made with a new
    key and certificate."""
    answer = await signing.stub.RevokeCertificate(
        pb.RevokeCertificateRequest(id=str(certificate_id), reason=body.reason),
        metadata=principal.metadata,
        timeout=signing.timeout,
    )
    return certificate_out(answer.certificate)
