from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc

from vanban.contracts.signing.v1 import signing_pb2 as pb
from vanban.contracts.signing.v1 import signing_pb2_grpc
from vanban.platform.caller import current_caller
from vanban.platform.errors import InvalidArgumentError
from vanban.signing.adapters import xmldsig
from vanban.signing.adapters.grpc.convert import certificate_info_to_pb, certificate_to_pb, ts
from vanban.signing.adapters.validation import certificate_summary
from vanban.signing.service import LEVELS, XML_SIGNERS, SigningService, require_service_of

REPORT_CHUNK = 64 * 1024


class SigningServicer(signing_pb2_grpc.SigningServiceServicer):
    def __init__(self, service: SigningService, *, max_pdf_bytes: int, max_xml_bytes: int) -> None:
        self._service = service
        self._max_pdf = max_pdf_bytes
        self._max_xml = max_xml_bytes

    async def SignOutgoingDocument(
        self, request: pb.SignOutgoingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.SignOutgoingDocumentResponse:
        caller = current_caller()
        if request.kind == pb.SIGNATURE_KIND_LEADER:
            signature = await self._service.sign_leader(
                caller,
                document_id=request.document_id,
                comment=request.comment,
                on_behalf_of=request.on_behalf_of,
                expected_version=request.expected_version,
            )
        elif request.kind == pb.SIGNATURE_KIND_AGENCY:
            signature = await self._service.sign_agency(caller, document_id=request.document_id)
        else:
            raise InvalidArgumentError(
                "kind must be LEADER or AGENCY", reason="INVALID_SIGNATURE_KIND"
            )
        return pb.SignOutgoingDocumentResponse(signature=signature)

    async def SignOutgoingDocuments(
        self, request: pb.SignOutgoingDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SignOutgoingDocumentsResponse:
        results = await self._service.sign_agency_batch(
            current_caller(), list(request.document_ids)
        )
        return pb.SignOutgoingDocumentsResponse(results=results)

    async def ListDocumentSignatures(
        self, request: pb.ListDocumentSignaturesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDocumentSignaturesResponse:
        return await self._service.list_signatures(current_caller(), request.document_id)

    async def ValidatePdf(
        self,
        request_iterator: AsyncIterator[pb.ValidatePdfRequest],
        context: grpc.aio.ServicerContext,
    ) -> pb.ValidatePdfResponse:
        caller = current_caller()
        requests = aiter(request_iterator)
        first = await anext(requests, None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidArgumentError(
                "the first message must carry the header", reason="HEADER_REQUIRED"
            )
        header = first.header
        if header.declared_size > self._max_pdf:
            raise InvalidArgumentError(
                f"a PDF to validate is at most {self._max_pdf} bytes", reason="FILE_TOO_LARGE"
            )
        parts: list[bytes] = []
        size = 0
        async for request in requests:
            if request.WhichOneof("part") != "chunk":
                raise InvalidArgumentError(
                    "only the first message carries a header", reason="HEADER_REPEATED"
                )
            size += len(request.chunk)
            if size > self._max_pdf:
                raise InvalidArgumentError(
                    f"a PDF to validate is at most {self._max_pdf} bytes",
                    reason="FILE_TOO_LARGE",
                )
            parts.append(request.chunk)
        if not size:
            raise InvalidArgumentError("the file is empty", reason="FILE_EMPTY")
        report = await self._service.validate(
            caller, data=b"".join(parts), file_name=header.file_name[:255] or "tai-lieu.pdf"
        )
        return pb.ValidatePdfResponse(report=report)

    async def GetValidationReport(
        self, request: pb.GetValidationReportRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetValidationReportResponse:
        return pb.GetValidationReportResponse(
            report=await self._service.report(current_caller(), request.id)
        )

    async def RenderValidationReport(
        self, request: pb.RenderValidationReportRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.RenderValidationReportResponse]:
        data = await self._service.render(current_caller(), request.id)
        for start in range(0, len(data), REPORT_CHUNK):
            yield pb.RenderValidationReportResponse(chunk=data[start : start + REPORT_CHUNK])

    async def ListCertificates(
        self, request: pb.ListCertificatesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCertificatesResponse:
        current_caller()
        now = datetime.now(UTC)
        return pb.ListCertificatesResponse(
            certificates=[certificate_to_pb(c, now=now) for c in await self._service.keys.all()]
        )

    async def ImportCertificates(
        self, request: pb.ImportCertificatesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportCertificatesResponse:
        caller = current_caller()
        caller.require_role("admin")
        made = await self._service.import_certificates(caller, request.data, request.password)
        now = datetime.now(UTC)
        return pb.ImportCertificatesResponse(
            certificates=[certificate_to_pb(c, now=now) for c in made]
        )

    async def RevokeCertificate(
        self, request: pb.RevokeCertificateRequest, context: grpc.aio.ServicerContext
    ) -> pb.RevokeCertificateResponse:
        caller = current_caller()
        caller.require_role("admin")
        revoked = await self._service.revoke(caller, request.id, reason=request.reason)
        return pb.RevokeCertificateResponse(
            certificate=certificate_to_pb(revoked, now=datetime.now(UTC))
        )

    async def SignPdf(
        self, request: pb.SignPdfRequest, context: grpc.aio.ServicerContext
    ) -> pb.SignPdfResponse:
        signed, at, key = await self._service.sign_text(
            current_caller(), pdf=request.pdf, lines=list(request.lines)
        )
        return pb.SignPdfResponse(
            signed_pdf=signed,
            level=LEVELS[self._service.signer.level.value],
            certificate_subject=key.certificate.subject.rfc4514_string(),
            signed_at=ts(at),
        )

    async def SignXml(
        self, request: pb.SignXmlRequest, context: grpc.aio.ServicerContext
    ) -> pb.SignXmlResponse:
        caller = current_caller()
        require_service_of(caller, XML_SIGNERS)
        key = await self._service.keys.organisation()
        signed = await asyncio.to_thread(
            xmldsig.sign_enveloped,
            request.xml,
            key=self._service.keys.token.key(key.label),
            certificate=key.certificate,
            chain=key.chain,
            max_bytes=self._max_xml,
        )
        await self._service.audit_use(
            caller, "signing.xml", source=request.xml, signed=signed, key=key
        )
        stored = self._service.keys.record_of(key)
        return pb.SignXmlResponse(
            signed_xml=signed,
            certificate=certificate_to_pb(stored, now=datetime.now(UTC)) if stored else None,
        )

    async def VerifyXml(
        self, request: pb.VerifyXmlRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyXmlResponse:
        require_service_of(current_caller(), XML_SIGNERS)
        verified = await asyncio.to_thread(
            xmldsig.verify_enveloped,
            request.xml,
            trust_roots=await self._service.keys.trust_roots(),
            max_bytes=self._max_xml,
        )
        return pb.VerifyXmlResponse(
            signer=certificate_info_to_pb(certificate_summary(verified.signer)),
            signed_xml=verified.signed_xml,
        )
