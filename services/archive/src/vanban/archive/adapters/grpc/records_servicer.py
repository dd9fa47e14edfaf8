"""RecordsService: translates messages, the domain decides."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vanban.archive.adapters.db.audit import verify_audit_chain
from vanban.archive.adapters.export.bag import build_bagit
from vanban.archive.adapters.export.dossier_pdf import build_pdf
from vanban.archive.adapters.export.eark import build_eark
from vanban.archive.adapters.grpc.records_convert import (
    STATE_FROM_PB,
    disposition_to_pb,
    dossier_to_pb,
    entry_to_pb,
    item_to_pb,
    plain_entry_to_pb,
    timestamp,
)
from vanban.archive.adapters.list_import import check_file
from vanban.archive.adapters.peers import GrpcPeers
from vanban.archive.adapters.records_io import PdfPages, dossier_metadata, export_documents
from vanban.archive.adapters.transaction import ArchiveTransaction
from vanban.archive.domain import dossiers, keeping
from vanban.archive.domain.dossier_list import MAX_LIST_FILE_BYTES
from vanban.archive.domain.keeping import (
    FixityResult,
    LockPolicy,
    ObjectReader,
    RecordFiles,
    Renderer,
    Vault,
)
from vanban.archive.domain.records import (
    ADMIN,
    ARCHIVIST,
    Dossier,
    DossierState,
    check_year,
    require_archivist,
)
from vanban.contracts.archive.v1 import records_pb2 as pb
from vanban.contracts.archive.v1 import records_pb2_grpc
from vanban.platform.caller import Caller, current_caller
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import (
    FailedPreconditionError,
    ResourceExhaustedError,
    UnavailableError,
    invalid_fields,
)

EXPORT_CHUNK = 256 * 1024
MAX_PROBLEMS = 500
Builder = Callable[..., Awaitable[Path]]
_BUILDERS: dict[int, Builder] = {
    pb.EXPORT_FORMAT_BAGIT: build_bagit,
    pb.EXPORT_FORMAT_EARK: build_eark,
    pb.EXPORT_FORMAT_PDF: build_pdf,
}
_CONTENT_TYPES = {
    pb.EXPORT_FORMAT_BAGIT: "application/zip",
    pb.EXPORT_FORMAT_EARK: "application/zip",
    pb.EXPORT_FORMAT_PDF: "application/pdf",
}


class RecordsServicer(records_pb2_grpc.RecordsServiceServicer):
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        sessions: Callable[[], async_sessionmaker[AsyncSession] | None],
        agency_code: str,
        documents: GrpcPeers,
        store: ObjectReader,
        read: Callable[[str], AsyncIterator[bytes]],
        vault: Vault,
        files: RecordFiles,
        renderer: Renderer,
        policy: LockPolicy,
        timezone: ZoneInfo,
        spool_dir: Path | None,
        on_fixity_failure: Callable[[FixityResult], None],
    ) -> None:
        self._uow_factory = uow_factory
        self._sessions = sessions
        self._agency_code = agency_code
        self._documents = documents
        self._store = store
        self._read = read
        self._pages = PdfPages(read=read, spool_dir=spool_dir)
        self._vault = vault
        self._files = files
        self._renderer = renderer
        self._policy = policy
        self._timezone = timezone
        self._spool_dir = spool_dir
        self._on_fixity_failure = on_fixity_failure

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _today(self) -> date:
        """The agency's calendar day (Vietnam's, not the server's)."""
        return datetime.now(self._timezone).date()

    async def _shown(self, dossier: Dossier) -> pb.Dossier:
        """The dossier as the caller of the call being served may read it: every answer that
        carries its documents goes through here."""
        readable = await dossiers.readable(dossier, documents=self._documents, now=self._now())
        return dossier_to_pb(readable)

    def _transactions(
        self, caller: Caller
    ) -> Callable[[], AbstractAsyncContextManager[ArchiveTransaction]]:
        return ArchiveTransaction.factory(self._uow_factory, actor=caller.subject)

    async def ListDossierList(
        self, request: pb.ListDossierListRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDossierListResponse:
        caller = current_caller()
        async with self._transactions(caller)() as tx:
            listed = await dossiers.list_entries(tx=tx, year=request.year, today=self._today())
        return pb.ListDossierListResponse(items=[entry_to_pb(e) for e in listed])

    async def ApproveDossierList(
        self, request: pb.ApproveDossierListRequest, context: grpc.aio.ServicerContext
    ) -> pb.ApproveDossierListResponse:
        caller = current_caller()
        async with self._transactions(caller)() as tx:
            codes = await dossiers.approve_list(
                tx=tx, caller=caller, year=request.year, today=self._today(), now=self._now()
            )
        return pb.ApproveDossierListResponse(approved=len(codes))

    async def OpenDossier(
        self, request: pb.OpenDossierRequest, context: grpc.aio.ServicerContext
    ) -> pb.OpenDossierResponse:
        caller = current_caller()
        caller.person_id  # noqa: B018 - a person opens a dossier, never a service
        async with self._transactions(caller)() as tx:
            dossier = await dossiers.open_dossier(
                tx=tx,
                caller=caller,
                agency_code=self._agency_code,
                year=request.year,
                list_code=request.list_code,
                title=request.title,
                description=request.description,
                today=self._today(),
                now=self._now(),
            )
        return pb.OpenDossierResponse(dossier=dossier_to_pb(dossier))

    async def GetDossier(
        self, request: pb.GetDossierRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetDossierResponse:
        caller = current_caller()
        async with self._transactions(caller)() as tx:
            dossier = await dossiers.get_dossier(tx=tx, caller=caller, dossier_id=request.id)
        return pb.GetDossierResponse(dossier=await self._shown(dossier))

    async def ListDossiers(
        self, request: pb.ListDossiersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDossiersResponse:
        caller = current_caller()
        async with self._transactions(caller)() as tx:
            found, token = await dossiers.list_dossiers(
                tx=tx,
                caller=caller,
                year=request.year,
                state=STATE_FROM_PB.get(request.state),
                handover_due=request.handover_due,
                requested_size=request.page_size,
                page_token=request.page_token,
                today=self._today(),
            )
        return pb.ListDossiersResponse(
            dossiers=[dossier_to_pb(d, documents=False) for d in found], next_page_token=token
        )

    async def AddDossierDocument(
        self, request: pb.AddDossierDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddDossierDocumentResponse:
        caller = current_caller()
        caller.person_id  # noqa: B018 - a person forms a dossier, never a service
        dossier = await dossiers.add_document(
            transactions=self._transactions(caller),
            documents=self._documents,
            pages=self._pages,
            caller=caller,
            dossier_id=request.dossier_id,
            document_id=request.document_id,
            kind=request.kind,
            now=self._now(),
        )
        return pb.AddDossierDocumentResponse(dossier=await self._shown(dossier))

    async def RemoveDossierDocument(
        self, request: pb.RemoveDossierDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RemoveDossierDocumentResponse:
        caller = current_caller()
        caller.person_id  # noqa: B018
        async with self._transactions(caller)() as tx:
            dossier = await dossiers.remove_document(
                tx=tx, caller=caller, dossier_id=request.dossier_id, document_id=request.document_id
            )
        return pb.RemoveDossierDocumentResponse(dossier=await self._shown(dossier))

    async def CloseDossier(
        self, request: pb.CloseDossierRequest, context: grpc.aio.ServicerContext
    ) -> pb.CloseDossierResponse:
        caller = current_caller()
        caller.person_id  # noqa: B018
        async with self._transactions(caller)() as tx:
            dossier = await dossiers.close_dossier(
                tx=tx,
                caller=caller,
                dossier_id=request.id,
                end_date=request.end_date,
                today=self._today(),
                now=self._now(),
            )
        return pb.CloseDossierResponse(dossier=await self._shown(dossier))

    async def ImportDossierList(
        self, request: pb.ImportDossierListRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportDossierListResponse:
        caller = current_caller()
        require_archivist(caller)
        year = check_year(request.year, today=self._today())
        if len(request.content) > MAX_LIST_FILE_BYTES:
            raise ResourceExhaustedError(
                f"a dossier list file is at most {MAX_LIST_FILE_BYTES} bytes",
                reason="LIST_FILE_TOO_LARGE",
                metadata={"max_bytes": str(MAX_LIST_FILE_BYTES)},
            )
        # Parsing an XLSX is CPU work: off the event loop.
        report = await asyncio.to_thread(
            check_file,
            request.content,
            year=year,
            media_type=request.content_type or None,
            filename=request.file_name or None,
        )
        outcome = await dossiers.import_list(
            transactions=self._transactions(caller),
            caller=caller,
            directory=self._documents,
            report=report,
            year=year,
            dry_run=request.dry_run,
            now=self._now(),
        )
        return pb.ImportDossierListResponse(
            entries=[plain_entry_to_pb(e) for e in outcome.report.entries]
            if outcome.report.ok
            else [],
            # The first MAX_PROBLEMS, by line: enough to fix a file, and an answer that stays
            # small whatever the file holds.
            problems=[
                pb.ImportProblem(line=p.line, field=p.field, message=p.message)
                for p in outcome.report.problems[:MAX_PROBLEMS]
            ],
            applied=outcome.applied,
            added=outcome.added,
            updated=outcome.updated,
        )

    async def HandOverDossier(
        self, request: pb.HandOverDossierRequest, context: grpc.aio.ServicerContext
    ) -> pb.HandOverDossierResponse:
        caller = current_caller()
        caller.person_id  # noqa: B018 - the archivist receives, in person
        dossier = await keeping.hand_over(
            transactions=self._transactions(caller),
            documents=self._documents,
            vault=self._vault,
            files=self._files,
            renderer=self._renderer,
            agency_name=self._documents.agency_name,
            person_name=self._documents.person_name,
            policy=self._policy,
            caller=caller,
            dossier_id=request.id,
            now=self._now(),
        )
        return pb.HandOverDossierResponse(dossier=dossier_to_pb(dossier))

    async def SetDossierHold(
        self, request: pb.SetDossierHoldRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetDossierHoldResponse:
        caller = current_caller()
        dossier = await keeping.set_hold(
            transactions=self._transactions(caller),
            vault=self._vault,
            caller=caller,
            dossier_id=request.id,
            hold=request.hold,
            reason=request.reason,
        )
        return pb.SetDossierHoldResponse(dossier=dossier_to_pb(dossier))

    async def CheckDossierFixity(
        self, request: pb.CheckDossierFixityRequest, context: grpc.aio.ServicerContext
    ) -> pb.CheckDossierFixityResponse:
        caller = current_caller()
        results = await keeping.check_dossier_fixity(
            transactions=self._transactions(caller),
            store=self._store,
            caller=caller,
            dossier_id=request.id,
            now=self._now(),
            on_failure=self._on_fixity_failure,
        )
        return pb.CheckDossierFixityResponse(
            ok=all(r.ok for r in results),
            files=[
                pb.FileFixity(sha256=r.sha256, ok=r.ok, problem=r.problem or "") for r in results
            ],
        )

    async def ExportDossier(
        self, request: pb.ExportDossierRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ExportDossierResponse]:
        caller = current_caller()
        builder = _BUILDERS.get(request.format)
        if builder is None:
            raise invalid_fields(
                {"format": "must be bagit, eark or pdf"}, reason="INVALID_EXPORT_FORMAT"
            )
        async with self._transactions(caller)() as tx:
            dossier = await dossiers.get_dossier(tx=tx, caller=caller, dossier_id=request.id)
            if dossier.state is DossierState.DISPOSED:
                raise FailedPreconditionError(
                    "the dossier was destroyed by a disposition: only its record remains",
                    reason="DOSSIER_DISPOSED",
                    metadata={"dossier_id": dossier.id},
                )
        dossier = await dossiers.readable(dossier, documents=self._documents, now=self._now())
        async with self._transactions(caller)() as tx:
            # Who took a copy of which dossier, and of how much of it, is part of the record.
            tx.audit(
                action="dossier.export",
                resource=f"dossiers/{dossier.id}",
                after={
                    "format": pb.ExportFormat.Name(request.format),
                    "documents": len(dossier.documents),
                    "files": len(dossier.files()),
                },
            )
            await tx.commit()
        name = await self._documents.agency_name()
        meta = dossier_metadata(dossier, agency_code=self._agency_code, agency_name=name)
        progress: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
        with tempfile.TemporaryDirectory(dir=self._spool_dir, prefix="export-") as workdir:
            building = asyncio.ensure_future(
                builder(
                    meta,
                    export_documents(dossier),
                    read=self._read,
                    workdir=Path(workdir),
                    progress=lambda done, total: progress.put_nowait((done, total)),
                )
            )
            try:
                while not building.done():
                    waiter = asyncio.ensure_future(progress.get())
                    await asyncio.wait({building, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    if waiter.done():
                        done, total = waiter.result()
                        yield pb.ExportDossierResponse(
                            progress=pb.ExportProgress(files_done=done, files_total=total)
                        )
                    else:
                        waiter.cancel()
                path = building.result()
            finally:
                if not building.done():
                    building.cancel()
                    with contextlib.suppress(BaseException):
                        await building
            yield pb.ExportDossierResponse(
                header=pb.ExportHeader(
                    content_type=_CONTENT_TYPES[request.format],
                    file_name=path.name,
                    size=path.stat().st_size,
                )
            )
            with path.open("rb") as data:
                while chunk := await asyncio.to_thread(data.read, EXPORT_CHUNK):
                    yield pb.ExportDossierResponse(chunk=chunk)

    async def ProposeDisposition(
        self, request: pb.ProposeDispositionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ProposeDispositionResponse:
        caller = current_caller()
        async with self._transactions(caller)() as tx:
            disposition = await keeping.propose_disposition(
                tx=tx,
                caller=caller,
                reason=request.reason,
                dossier_ids=list(request.dossier_ids),
                today=self._today(),
                now=self._now(),
            )
        return pb.ProposeDispositionResponse(disposition=disposition_to_pb(disposition))

    async def GetDisposition(
        self, request: pb.GetDispositionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetDispositionResponse:
        caller = current_caller()
        async with self._transactions(caller)() as tx:
            disposition = await keeping.get_disposition(
                tx=tx, caller=caller, disposition_id=request.id
            )
        return pb.GetDispositionResponse(disposition=disposition_to_pb(disposition))

    async def ListDispositions(
        self, request: pb.ListDispositionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDispositionsResponse:
        caller = current_caller()
        async with self._transactions(caller)() as tx:
            found, token = await keeping.list_dispositions(
                tx=tx,
                caller=caller,
                requested_size=request.page_size,
                page_token=request.page_token,
            )
        return pb.ListDispositionsResponse(
            dispositions=[disposition_to_pb(d) for d in found], next_page_token=token
        )

    async def DryRunDisposition(
        self, request: pb.DryRunDispositionRequest, context: grpc.aio.ServicerContext
    ) -> pb.DryRunDispositionResponse:
        caller = current_caller()
        async with self._transactions(caller)() as tx:
            plan = await keeping.dry_run(
                tx=tx,
                caller=caller,
                disposition_id=request.id,
                today=self._today(),
                now=self._now(),
            )
        return pb.DryRunDispositionResponse(
            items=[item_to_pb(i) for i in plan.items],
            document_ids=list(plan.document_ids),
            files=[
                pb.DispositionFile(sha256=sha, size=size, kept=kept)
                for sha, (size, kept) in plan.files.items()
            ],
            bytes_deleted=plan.bytes_deleted,
            blocked=[f"{k}: {v}" for k, v in sorted(plan.blocked.items())],
        )

    async def DecideDisposition(
        self, request: pb.DecideDispositionRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideDispositionResponse:
        caller = current_caller()
        caller.person_id  # noqa: B018 - the leader decides, in person
        async with self._transactions(caller)() as tx:
            disposition = await keeping.decide_disposition(
                tx=tx,
                caller=caller,
                disposition_id=request.id,
                approve=request.approve,
                note=request.note,
                now=self._now(),
            )
        return pb.DecideDispositionResponse(disposition=disposition_to_pb(disposition))

    async def ExecuteDisposition(
        self, request: pb.ExecuteDispositionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ExecuteDispositionResponse:
        caller = current_caller()
        caller.person_id  # noqa: B018
        disposition = await keeping.execute_disposition(
            transactions=self._transactions(caller),
            documents=self._documents,
            store=self._store,
            files=self._files,
            vault=self._vault,
            renderer=self._renderer,
            agency_name=self._documents.agency_name,
            person_name=self._documents.person_name,
            policy=self._policy,
            caller=caller,
            disposition_id=request.id,
            today=self._today(),
            now=self._now(),
        )
        return pb.ExecuteDispositionResponse(disposition=disposition_to_pb(disposition))

    async def VerifyAudit(
        self, request: pb.VerifyAuditRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyAuditResponse:
        caller = current_caller()
        caller.require_role(ARCHIVIST, ADMIN)
        sessions = self._sessions()
        if sessions is None:
            raise UnavailableError("the archive is starting", reason="NOT_READY")
        report = await verify_audit_chain(sessions=sessions)
        broken = report.broken
        return pb.VerifyAuditResponse(
            ok=report.ok,
            checked=report.checked,
            head_hash=report.head,
            broken=pb.AuditLink(
                id=broken.id,
                occurred_at=timestamp(broken.occurred_at),
                action=broken.action,
                resource=broken.resource,
                problem=broken.fault.value,
            )
            if broken
            else None,
        )
