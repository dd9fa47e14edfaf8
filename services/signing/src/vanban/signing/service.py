"""The signing use cases (ADR 0011): the leader's and the agency's signatures on outgoing
documents, validation, certificates.

A leader's signature, in order: the workflow checks that the caller may sign the draft now
(nothing recorded); the PDF of the current version is signed with the caller's key; the signed
file is stored and the signature recorded here with its event (`signing.document.signed`, from
which the archive claims the file and documents records it); then the workflow records the
approval; documents is told at once as well. A crash between two steps leaves nothing that a
second signature cannot put right: the draft is numbered only once the workflow has recorded
the approval and documents a leader signature of the version approved.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from cryptography import x509
from google.protobuf import json_format
from sqlalchemy.dialects.postgresql import insert as pg_insert

from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.signing.v1 import events_pb2
from vanban.contracts.signing.v1 import signing_pb2 as pb
from vanban.platform.caller import Caller
from vanban.platform.convert import from_timestamp, to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import (
    DomainError,
    ErrorCode,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from vanban.platform.events.nats import subject
from vanban.signing.adapters import pades
from vanban.signing.adapters.db.tables import (
    agency_signing_attempts,
    signatures,
    validation_reports,
)
from vanban.signing.adapters.grpc.convert import report_to_pb, result_from_pb
from vanban.signing.adapters.keys import KeyStore
from vanban.signing.adapters.peers import GrpcPeers
from vanban.signing.adapters.report_pdf import render_report
from vanban.signing.adapters.validation import validate_pdf
from vanban.signing.domain.certificates import fingerprint
from vanban.signing.domain.model import SignatureCheck, ValidationResult

logger = logging.getLogger(__name__)

DOCUMENT_SIGNED = subject("signing", "document", "signed")
VALIDATION_COMPLETED = subject("signing", "validation", "completed")
SERVICE_ACTOR = "service:signing"
CLERK_ROLES = frozenset({"clerk"})
LEADER_FIELD = "LanhDao"
AGENCY_FIELD = "CoQuan"
# Signed one after another within the gateway's 30 s: a page of documents at a time.
BATCH_MAX = 20
# SignPdf carries the file in the message: within gRPC's message size, with room for the
# signature.
SIGN_PDF_MAX_BYTES = 4 * 1024 * 1024
TEXT_LINES_MAX = 4
VALIDATIONS_AT_ONCE = 2
# The services that have the agency's key sign a PDF (copies, scans) or an XML package.
PDF_SIGNERS = frozenset({"service:documents", "service:exchange"})
XML_SIGNERS = frozenset({"service:exchange"})
TEXT_LINE_MAX = 120
# Refusals that say "not now" rather than "no": the work is tried again.
TRANSIENT = frozenset(
    {
        ErrorCode.UNAVAILABLE,
        ErrorCode.DEADLINE_EXCEEDED,
        ErrorCode.ABORTED,
        ErrorCode.INTERNAL,
        ErrorCode.UNKNOWN,
    }
)

_KIND_NAMES = {
    pb.SIGNATURE_KIND_LEADER: "leader",
    pb.SIGNATURE_KIND_AGENCY: "agency",
    pb.SIGNATURE_KIND_AGENCY_TEXT: "agency_text",
}
_KIND_OF_NAME = {v: k for k, v in _KIND_NAMES.items()}
LEVELS = {"B-B": pb.PADES_LEVEL_B_B, "B-T": pb.PADES_LEVEL_B_T}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Options:
    agency_name: str
    location: str
    seal_mm: float
    leader_anchor: str
    max_pdf_bytes: int


def signature_to_pb(row: Any) -> pb.Signature:
    m = row._mapping if hasattr(row, "_mapping") else row
    return pb.Signature(
        id=m["id"],
        document_id=m["document_id"],
        version=m["version"],
        kind=_KIND_OF_NAME[m["kind"]],
        level=LEVELS.get(m["level"], pb.PADES_LEVEL_UNSPECIFIED),
        signed_by=m["signed_by"],
        certificate_subject=m["certificate_subject"],
        certificate_sha256=m["certificate_sha256"],
        signed_at=to_timestamp(m["signed_at"]),
        file=documents_pb2.FileRef(
            sha256=m["sha256"],
            size=m["size"],
            content_type="application/pdf",
            file_name=m["file_name"],
        ),
        field_name=m["field_name"],
        source_sha256=m["source_sha256"],
    )


def record_request(signature: pb.Signature) -> documents_pb2.RecordOutgoingSignatureRequest:
    return documents_pb2.RecordOutgoingSignatureRequest(
        document_id=signature.document_id,
        signature=documents_pb2.DocumentSignature(
            id=signature.id,
            version=signature.version,
            kind=_KIND_NAMES[signature.kind],
            file=signature.file,
            source_sha256=signature.source_sha256,
            signed_by=signature.signed_by,
            signed_at=signature.signed_at,
            certificate_subject=signature.certificate_subject,
        ),
    )


class Signer(Protocol):
    """Makes PAdES signatures: in this process (PadesSigner) or in workers (SigningPool)."""

    @property
    def level(self) -> pades.Level: ...

    async def sign(
        self,
        data: bytes,
        *,
        key: pades.KeyHolder,
        placement: pades.Placement,
        appearance: pades.Appearance,
        field_name: str,
        reason: str,
        location: str,
    ) -> bytes: ...


Validator = Callable[[bytes, list[x509.Certificate]], Awaitable[ValidationResult]]


async def validate_in_thread(data: bytes, roots: list[x509.Certificate]) -> ValidationResult:
    return await asyncio.to_thread(asyncio.run, validate_pdf(data, trust_roots=roots))


class SigningService:
    def __init__(
        self,
        *,
        keys: KeyStore,
        signer: Signer,
        peers: GrpcPeers,
        uow_factory: Any,
        options: Options,
        validator: Validator | None = None,
    ) -> None:
        self.keys = keys
        self.signer = signer
        # Validation is CPU work: off the event loop (a thread, or the signing workers).
        self.validator: Validator = validator or validate_in_thread
        # Validations asked by people, at most this many at once (each is seconds of CPU at
        # worst); more wait their turn.
        self._validations = asyncio.Semaphore(VALIDATIONS_AT_ONCE)
        self.peers = peers
        self._uow_factory = uow_factory
        self.options = options

    @contextlib.asynccontextmanager
    async def _document_lock(self, document_id: str) -> AsyncIterator[None]:
        """A transaction-scoped advisory lock on the document, held while it is signed."""
        async with self._uow_factory() as uow:
            await uow.session.execute(
                sa.select(
                    sa.func.pg_advisory_xact_lock(
                        sa.func.hashtextextended(f"sign:{document_id}", 0)
                    )
                )
            )
            yield

    # Reading ------------------------------------------------------------------------------

    async def _signatures_of(self, document_id: str) -> list[Any]:
        uow: UnitOfWork
        async with self._uow_factory() as uow:
            rows = (
                await uow.session.execute(
                    sa.select(signatures)
                    .where(signatures.c.document_id == document_id)
                    .order_by(signatures.c.signed_at, signatures.c.id)
                )
            ).all()
        return list(rows)

    async def list_signatures(
        self, caller: Caller, document_id: str
    ) -> pb.ListDocumentSignaturesResponse:
        if not _is_uuid(document_id):
            raise NotFoundError("no outgoing document with this id", reason="OUTGOING_NOT_FOUND")
        # Documents decides who may open it (asked with the caller's token).
        await self.peers.outgoing(document_id)
        answer = pb.ListDocumentSignaturesResponse(
            signatures=[signature_to_pb(r) for r in await self._signatures_of(document_id)]
        )
        async with self._uow_factory() as uow:
            attempt = (
                await uow.session.execute(
                    sa.select(agency_signing_attempts).where(
                        agency_signing_attempts.c.document_id == document_id
                    )
                )
            ).first()
        if attempt is not None:
            answer.automatic_agency_signature.CopyFrom(
                pb.AgencySigningAttempt(
                    outcome=attempt.outcome,
                    reason=attempt.reason,
                    message=attempt.message,
                    attempted_at=to_timestamp(attempt.attempted_at),
                )
            )
        return answer

    # Signing ------------------------------------------------------------------------------

    async def sign_leader(
        self,
        caller: Caller,
        *,
        document_id: str,
        comment: str,
        on_behalf_of: str,
        expected_version: int,
    ) -> pb.Signature:
        if caller.is_service or not caller.subject:
            raise PermissionDeniedError(
                "a leader's signature is made by the leader, signed in", reason="PERSON_REQUIRED"
            )
        if not _is_uuid(document_id):
            raise NotFoundError("no outgoing document with this id", reason="OUTGOING_NOT_FOUND")
        # One signature of a document at a time, on every replica: a second click waits, then
        # finds the step passed (the workflow says so) and signs nothing.
        async with self._document_lock(document_id):
            return await self._sign_leader(
                caller,
                document_id=document_id,
                comment=comment,
                on_behalf_of=on_behalf_of,
                expected_version=expected_version,
            )

    async def _sign_leader(
        self,
        caller: Caller,
        *,
        document_id: str,
        comment: str,
        on_behalf_of: str,
        expected_version: int,
    ) -> pb.Signature:
        document = await self.peers.outgoing(document_id)
        if document.status != documents_pb2.DOCUMENT_STATUS_DRAFT:
            raise FailedPreconditionError(
                "the document is no longer a draft", reason="DOCUMENT_NOT_DRAFT"
            )
        step = functools.partial(
            self.peers.sign_step,
            document_id=document_id,
            comment=comment,
            on_behalf_of=on_behalf_of,
            expected_version=expected_version,
        )
        # Every check of the workflow (the step, the signer, a delegation), nothing recorded.
        await step(validate_only=True)
        source = document.file
        _require_pdf(source)
        person = await self.peers.person(caller.person_id)
        key = await self.keys.person(caller.person_id, full_name=person.full_name)
        data = await self.peers.archive.read(source.sha256, max_bytes=self.options.max_pdf_bytes)
        placement = await asyncio.to_thread(
            pades.leader_placement, data, field_name=LEADER_FIELD, anchor=self.options.leader_anchor
        )
        now = datetime.now(UTC)
        image = await self._image(person.signature_image)
        appearance = pades.Appearance(
            image_png=image,
            text=None
            if image
            else f"Đã ký: {person.full_name}\n{person.position_title}\n{pades.vietnam_time(now)}",
        )
        signed = await self.signer.sign(
            data,
            key=key,
            placement=placement,
            appearance=appearance,
            field_name=placement.field or f"{LEADER_FIELD}-{uuid.uuid4().hex[:8]}",
            reason=f"Ký ban hành văn bản: {document.subject[:200]}",
            location=self.options.location,
        )
        signature = await self._store_and_record(
            caller=caller,
            document=document,
            kind=pb.SIGNATURE_KIND_LEADER,
            data=signed,
            source_sha256=source.sha256,
            key=key,
            field_name=placement.field or "",
            signed_at=now,
        )
        # The approval: the workflow checks again, under its lock, and records it.
        await step(validate_only=False)
        await self._tell_documents(signature)
        return signature

    async def sign_agency(self, caller: Caller, *, document_id: str) -> pb.Signature:
        """The agency's signature (the seal) on an issued document whose last signature is a
        valid leader's: by the clerk, or by this service when a document is issued."""
        _require_clerk(caller)
        if not _is_uuid(document_id):
            raise NotFoundError("no outgoing document with this id", reason="OUTGOING_NOT_FOUND")
        # One agency signature per document, however many clerks (and the automatic one) ask
        # at once: the second finds the first and answers ALREADY_SIGNED.
        async with self._document_lock(document_id):
            return await self._sign_agency(caller, document_id=document_id)

    async def _sign_agency(self, caller: Caller, *, document_id: str) -> pb.Signature:
        document = await self.peers.outgoing(document_id, as_service=caller.is_service)
        if document.status != documents_pb2.DOCUMENT_STATUS_ISSUED:
            raise FailedPreconditionError(
                "the agency signs a document once it is issued (numbered)",
                reason="DOCUMENT_NOT_ISSUED",
            )
        made = await self._signatures_of(document_id)
        if any(r.kind == "agency" and r.version == document.current_version for r in made):
            raise FailedPreconditionError(
                "the document already carries the agency's signature", reason="ALREADY_SIGNED"
            )
        leader = [r for r in made if r.kind == "leader" and r.version == document.current_version]
        if not leader:
            raise FailedPreconditionError(
                "the document carries no leader's signature", reason="LEADER_SIGNATURE_REQUIRED"
            )
        source_sha = leader[-1].sha256
        data = await self.peers.archive.read(source_sha, max_bytes=self.options.max_pdf_bytes)
        found = await self.validator(data, await self.keys.trust_roots())
        check = _valid_leader(found)
        if check is None:
            raise FailedPreconditionError(
                "the document carries no valid leader's signature (intact, trusted, nothing "
                "changed after it)",
                reason="LEADER_SIGNATURE_REQUIRED",
            )
        agency = await self.peers.agency()
        key = await self.keys.organisation()
        now = datetime.now(UTC)
        image = await self._image(agency.seal_image)
        if image is not None and check.box is not None and check.page is not None:
            placement = pades.seal_placement(
                pades.Placement(page=check.page, box=check.box), seal_mm=self.options.seal_mm
            )
        else:
            # No seal image (or an invisible leader signature): the agency's signature as text
            # at the top right of page 1, where it reads and covers nothing.
            placement, image = await asyncio.to_thread(pades.top_right_placement, data), None
        number = f"{document.code_number}/{document.code_notation}"
        appearance = pades.Appearance(
            image_png=image,
            text=None
            if image
            else f"{agency.name}\nSố: {number}\nThời gian ký: {pades.vietnam_time(now)}",
        )
        signed = await self.signer.sign(
            data,
            key=key,
            placement=placement,
            appearance=appearance,
            field_name=f"{AGENCY_FIELD}-{uuid.uuid4().hex[:8]}",
            reason=f"Ký số của cơ quan: {number}",
            location=self.options.location,
        )
        signature = await self._store_and_record(
            caller=caller,
            document=document,
            kind=pb.SIGNATURE_KIND_AGENCY,
            data=signed,
            source_sha256=source_sha,
            key=key,
            field_name="",
            signed_at=now,
        )
        await self._tell_documents(signature)
        return signature

    async def sign_agency_batch(
        self, caller: Caller, document_ids: list[str]
    ) -> list[pb.DocumentSigningResult]:
        _require_clerk(caller)
        if not document_ids or len(document_ids) > BATCH_MAX:
            raise InvalidArgumentError(f"name 1 to {BATCH_MAX} documents", reason="INVALID_BATCH")
        if len(set(document_ids)) != len(document_ids):
            raise InvalidArgumentError("a document is named twice", reason="INVALID_BATCH")
        results = []
        for document_id in document_ids:
            results.append(await self._one_agency(caller, document_id))
        return results

    async def _one_agency(self, caller: Caller, document_id: str) -> pb.DocumentSigningResult:
        try:
            signature = await self.sign_agency(caller, document_id=document_id)
        except DomainError as exc:
            if exc.reason == "ALREADY_SIGNED":
                made = [r for r in await self._signatures_of(document_id) if r.kind == "agency"]
                return pb.DocumentSigningResult(
                    document_id=document_id,
                    already_signed=True,
                    signature=signature_to_pb(made[-1]) if made else None,
                )
            return pb.DocumentSigningResult(
                document_id=document_id, reason=exc.reason, message=exc.message
            )
        return pb.DocumentSigningResult(document_id=document_id, signature=signature)

    async def sign_issued(self, document: documents_pb2.OutgoingDocument, caller: Caller) -> None:
        """At issue (the event): the agency's signature on a document that carries a leader's;
        the outcome is kept per document (a document issued without one is left alone). A
        service that cannot be reached now makes the event come again."""
        if not any(s.kind == "leader" for s in document.signatures):
            return
        reason, message = "", ""
        try:
            await self.sign_agency(caller, document_id=document.id)
            outcome = "signed"
        except DomainError as exc:
            if exc.code in TRANSIENT:
                # Kept as the latest state for the clerk, then tried again (the event returns).
                await self._attempted(document.id, "failed", exc.reason, exc.message)
                raise
            outcome = "already_signed" if exc.reason == "ALREADY_SIGNED" else "refused"
            reason, message = exc.reason, exc.message
        if outcome == "refused":
            logger.warning(
                "automatic agency signature refused",
                extra={"document_id": document.id, "reason": reason},
            )
        await self._attempted(document.id, outcome, reason, message)

    async def _attempted(self, document_id: str, outcome: str, reason: str, message: str) -> None:
        async with self._uow_factory() as uow:
            values = {
                "document_id": document_id,
                "outcome": outcome,
                "reason": reason,
                "message": message[:2000],
                "attempted_at": datetime.now(UTC),
            }
            stmt = pg_insert(agency_signing_attempts).values(values)
            await uow.session.execute(
                stmt.on_conflict_do_update(index_elements=["document_id"], set_=values)
            )
            await uow.commit()

    async def sign_text(
        self, caller: Caller, *, pdf: bytes, lines: list[str]
    ) -> tuple[bytes, datetime, pades.KeyHolder]:
        """The agency's text-only signature at the top right of page 1 of `pdf` (copies,
        attachments, digitized scans), for the services that make them; audited."""
        require_service_of(caller, PDF_SIGNERS)
        if len(pdf) > SIGN_PDF_MAX_BYTES:
            raise InvalidArgumentError(
                f"a PDF signed this way is at most {SIGN_PDF_MAX_BYTES} bytes",
                reason="FILE_TOO_LARGE",
            )
        if not 1 <= len(lines) <= TEXT_LINES_MAX or any(
            not line.strip() or len(line) > TEXT_LINE_MAX or not line.isprintable()
            for line in lines
        ):
            raise InvalidArgumentError(
                f"1 to {TEXT_LINES_MAX} printable lines of at most {TEXT_LINE_MAX} characters",
                reason="INVALID_SIGNATURE_TEXT",
            )
        key = await self.keys.organisation()
        now = datetime.now(UTC)
        signed = await self.signer.sign(
            pdf,
            key=key,
            placement=pades.top_right_placement(pdf),
            appearance=pades.Appearance(
                text="\n".join([*lines, f"Thời gian ký: {pades.vietnam_time(now)}"])
            ),
            field_name=f"{AGENCY_FIELD}-{uuid.uuid4().hex[:8]}",
            reason="Ký số của cơ quan",
            location=self.options.location,
        )
        await self.audit_use(caller, "signing.pdf", source=pdf, signed=signed, key=key)
        return signed, now, key

    async def audit_use(
        self, caller: Caller, action: str, *, source: bytes, signed: bytes, key: pades.KeyHolder
    ) -> None:
        """What the agency's key signed for another service, by hash: who, what in, what out."""
        async with self._uow_factory() as uow:
            uow.audit(
                actor=caller.subject,
                action=action,
                resource=f"files/{hashlib.sha256(source).hexdigest()}",
                after={
                    "signed_sha256": hashlib.sha256(signed).hexdigest(),
                    "certificate": fingerprint(key.certificate),
                },
            )
            await uow.commit()

    async def import_certificates(self, caller: Caller, data: bytes, password: str) -> Any:
        made = await self.keys.import_certificates(data, password)
        async with self._uow_factory() as uow:
            for stored in made:
                uow.audit(
                    actor=caller.subject,
                    action="signing.certificate.imported",
                    resource=f"certificates/{stored.id}",
                    after={"role": stored.role.value, "sha256": stored.sha256},
                )
            await uow.commit()
        return made

    async def revoke(self, caller: Caller, certificate_id: str, *, reason: str) -> Any:
        revoked = await self.keys.revoke(certificate_id, reason=reason)
        async with self._uow_factory() as uow:
            uow.audit(
                actor=caller.subject,
                action="signing.certificate.revoked",
                resource=f"certificates/{certificate_id}",
                after={"reason": reason, "sha256": revoked.sha256},
            )
            await uow.commit()
        return revoked

    # Shared steps -------------------------------------------------------------------------

    async def _image(self, sha256: str) -> bytes | None:
        if not sha256:
            return None
        return pades.check_png(await self.peers.archive.read(sha256, max_bytes=1024 * 1024))

    async def _store_and_record(
        self,
        *,
        caller: Caller,
        document: documents_pb2.OutgoingDocument,
        kind: pb.SignatureKind.ValueType,
        data: bytes,
        source_sha256: str,
        key: pades.KeyHolder,
        field_name: str,
        signed_at: datetime,
    ) -> pb.Signature:
        name = document.file.file_name or "van-ban.pdf"
        stem = name[:-4] if name.lower().endswith(".pdf") else name
        file, upload_id = await self.peers.archive.store(
            data,
            content_type="application/pdf",
            file_name=f"{stem}-{_KIND_NAMES[kind].replace('_', '-')}.pdf"[:255],
        )
        signature = pb.Signature(
            id=str(uuid.uuid4()),
            document_id=document.id,
            version=document.current_version,
            kind=kind,
            level=LEVELS[self.signer.level.value],
            signed_by=caller.subject,
            certificate_subject=key.certificate.subject.rfc4514_string()[:1000],
            certificate_sha256=fingerprint(key.certificate),
            signed_at=to_timestamp(signed_at),
            file=file,
            field_name=field_name,
            source_sha256=source_sha256,
        )
        committed = False
        try:
            async with self._uow_factory() as uow:
                await uow.session.execute(
                    sa.insert(signatures).values(
                        id=signature.id,
                        document_id=signature.document_id,
                        version=signature.version,
                        kind=_KIND_NAMES[kind],
                        level=self.signer.level.value,
                        signed_by=signature.signed_by,
                        certificate_sha256=signature.certificate_sha256,
                        certificate_subject=signature.certificate_subject,
                        signed_at=signed_at,
                        sha256=file.sha256,
                        size=file.size,
                        file_name=file.file_name,
                        field_name=field_name or "-",
                        source_sha256=source_sha256,
                    )
                )
                uow.record_event(
                    DOCUMENT_SIGNED,
                    events_pb2.DocumentSigned(
                        signature=signature,
                        agency_code=self.keys.agency_code,
                        occurred_at=to_timestamp(signed_at),
                    ),
                )
                uow.audit(
                    actor=caller.subject,
                    action=f"signing.{_KIND_NAMES[kind]}",
                    resource=f"outgoing-documents/{document.id}",
                    after={
                        "signature_id": signature.id,
                        "version": signature.version,
                        "sha256": file.sha256,
                        "certificate": signature.certificate_sha256,
                    },
                )
                await uow.commit()
                committed = True
        except BaseException:
            # Released only while no record names the file: once the signature is committed,
            # its event makes the archive claim the file.
            if not committed:
                await self.peers.archive.release(upload_id)
            raise
        return signature

    async def _tell_documents(self, signature: pb.Signature) -> None:
        """At once; the event is the way that does not fail (documents consumes it too)."""
        try:
            await self.peers.record(record_request(signature))
        except DomainError as exc:
            logger.warning(
                "documents did not record the signature at once; its event will",
                extra={"signature_id": signature.id, "reason": exc.reason},
            )

    # Validation ---------------------------------------------------------------------------

    async def validate(self, caller: Caller, *, data: bytes, file_name: str) -> pb.ValidationReport:
        """Every signature of `data` validated against the agency's trust roots; the report is
        kept (GetValidationReport, RenderValidationReport) and announced."""
        async with self._validations:
            result = await self.validator(data, await self.keys.trust_roots())
        report_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        report = report_to_pb(
            report_id, result, file_name=file_name, validated_at=now, validated_by=caller.subject
        )
        async with self._uow_factory() as uow:
            await uow.session.execute(
                sa.insert(validation_reports).values(
                    id=report_id,
                    file_name=file_name[:255],
                    file_sha256=result.file_sha256,
                    file_size=result.file_size,
                    ok=result.ok,
                    result=json_format.MessageToDict(report),
                    validated_by=caller.subject,
                    validated_at=now,
                )
            )
            uow.record_event(
                VALIDATION_COMPLETED,
                events_pb2.ValidationCompleted(
                    report_id=report_id,
                    file_sha256=result.file_sha256,
                    ok=result.ok,
                    signatures=len(result.signatures),
                    agency_code=self.keys.agency_code,
                    occurred_at=to_timestamp(now),
                ),
            )
            await uow.commit()
        return report

    async def report(self, caller: Caller, report_id: str) -> pb.ValidationReport:
        """A report, for whoever asked for it (administrators and services: any)."""
        if not _is_uuid(report_id):
            raise NotFoundError("no validation report with this id", reason="REPORT_NOT_FOUND")
        async with self._uow_factory() as uow:
            row = (
                await uow.session.execute(
                    sa.select(validation_reports.c.result, validation_reports.c.validated_by).where(
                        validation_reports.c.id == report_id
                    )
                )
            ).first()
        if row is None or not (
            caller.is_service or "admin" in caller.roles or row.validated_by == caller.subject
        ):
            raise NotFoundError("no validation report with this id", reason="REPORT_NOT_FOUND")
        return json_format.ParseDict(row.result, pb.ValidationReport())

    async def render(self, caller: Caller, report_id: str) -> bytes:
        report = await self.report(caller, report_id)
        return render_report(
            result_from_pb(report),
            file_name=report.file_name,
            validated_at=from_timestamp(report.validated_at),
            validated_by=report.validated_by,
        )


def require_service_of(caller: Caller, allowed: frozenset[str]) -> None:
    if not caller.is_service or caller.subject not in allowed:
        raise PermissionDeniedError(
            f"only {', '.join(sorted(allowed))} may have the agency's key sign this",
            reason="SERVICE_NOT_ALLOWED",
        )


def _require_clerk(caller: Caller) -> None:
    """The agency signature is the clerk's, or this service's own (at issue); no other service
    makes it."""
    if caller.is_service:
        if caller.subject != SERVICE_ACTOR:
            raise PermissionDeniedError(
                "only the clerk, or the signing service itself, makes the agency's signature",
                reason="ROLE_REQUIRED",
            )
        return
    if not caller.roles.intersection(CLERK_ROLES):
        raise PermissionDeniedError(
            "the agency's signature is the clerk's (văn thư) to affix",
            reason="ROLE_REQUIRED",
            metadata={"roles": ",".join(sorted(CLERK_ROLES))},
        )


def _require_pdf(file: documents_pb2.FileRef) -> None:
    if file.content_type != "application/pdf":
        raise FailedPreconditionError(
            "only a PDF is signed: the draft's file is not one", reason="NOT_A_PDF_DOCUMENT"
        )


def _valid_leader(result: ValidationResult) -> SignatureCheck | None:
    """The last valid person's (leader's) signature of the file, when every signature is
    sound: a file broken after the leader signed gets no seal."""
    if not result.signatures or any(
        not s.intact or not s.valid or s.error or s.trailing_data for s in result.signatures
    ):
        return None
    leaders = [s for s in result.signatures if s.ok and not s.organisation]
    return leaders[-1] if leaders else None
