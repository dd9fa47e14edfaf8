"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from vanban.archive.adapters.db.records import (
    SqlClaimRepository,
    SqlDispositionRepository,
    SqlDossierListRepository,
    SqlDossierRepository,
)
from vanban.archive.adapters.db.repository import SqlObjectRepository, SqlUploadRepository
from vanban.archive.adapters.grpc.convert import object_to_pb
from vanban.archive.adapters.grpc.records_convert import dossier_to_pb
from vanban.archive.domain.model import StoredObject
from vanban.archive.domain.records import Dossier
from vanban.contracts.archive.v1 import events_pb2
from vanban.platform.convert import SECRECY_TO_PB, to_timestamp
from vanban.platform.events.nats import subject
from vanban.platform.transaction import ServiceTransaction

OBJECT_STORED = subject("archive", "object", "stored")
DOSSIER_CLOSED = subject("archive", "dossier", "closed")
DOSSIER_HANDED_OVER = subject("archive", "dossier", "handed_over")
DOSSIER_HANDOVER_DUE = subject("archive", "dossier", "handover_due")
DOSSIER_DISPOSED = subject("archive", "dossier", "disposed")
FIXITY_FAILED = subject("archive", "fixity", "failed")
# The actor of work the archive does on its own (claims from events, collection).
SERVICE_ACTOR = "service:archive"


class ArchiveTransaction(ServiceTransaction):
    def open_repositories(self, session: AsyncSession) -> None:
        self.objects = SqlObjectRepository(session)
        self.uploads = SqlUploadRepository(session)
        self.claims = SqlClaimRepository(session)
        self.dossier_list = SqlDossierListRepository(session)
        self.dossiers = SqlDossierRepository(session)
        self.dispositions = SqlDispositionRepository(session)

    def record_stored(self, obj: StoredObject) -> None:
        self.record_event(OBJECT_STORED, events_pb2.ObjectStored(object=object_to_pb(obj)))

    def record_dossier_closed(self, dossier: Dossier) -> None:
        self.record_event(
            DOSSIER_CLOSED,
            events_pb2.DossierClosed(dossier=dossier_to_pb(dossier, documents=False)),
        )

    def record_dossier_handed_over(self, dossier: Dossier) -> None:
        self.record_event(
            DOSSIER_HANDED_OVER,
            events_pb2.DossierHandedOver(dossier=dossier_to_pb(dossier, documents=False)),
        )

    def record_handover_due(self, dossier: Dossier) -> None:
        self.record_event(
            DOSSIER_HANDOVER_DUE,
            events_pb2.DossierHandoverDue(
                dossier=dossier_to_pb(dossier, documents=False),
                secrecy=SECRECY_TO_PB[dossier.secrecy],
            ),
        )

    def record_fixity_failed(self, sha256: str, *, problem: str, at: datetime) -> None:
        self.record_event(
            FIXITY_FAILED,
            events_pb2.FixityFailed(sha256=sha256, problem=problem, checked_at=to_timestamp(at)),
        )

    def record_dossier_disposed(
        self, dossier: Dossier, *, disposition_id: str, document_ids: Sequence[str]
    ) -> None:
        self.record_event(
            DOSSIER_DISPOSED,
            events_pb2.DossierDisposed(
                dossier_id=dossier.id,
                file_code=dossier.file_code,
                disposition_id=disposition_id,
                document_ids=list(document_ids),
            ),
        )
