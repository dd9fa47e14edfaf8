"""What the workflow asks other services. Checks of facts (does the document exist, is this
person a leader, do these units exist) are asked as the workflow itself; the caller's own rights
were decided before."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any

import grpc

from vanban.contracts.directory.v1 import directory_pb2, directory_pb2_grpc
from vanban.contracts.documents.v1 import documents_pb2, documents_pb2_grpc
from vanban.platform.cache import TtlCache
from vanban.platform.caller import CALLER_METADATA_KEY, Caller
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.convert import clearance_from_pb, secrecy_from_pb
from vanban.platform.errors import NotFoundError
from vanban.workflow.adapters.transaction import WorkflowTransaction
from vanban.workflow.domain.approving import Draft, Person
from vanban.workflow.domain.calendar import Priority
from vanban.workflow.domain.dossiers import ItemKind
from vanban.workflow.domain.handling import read_task
from vanban.workflow.domain.ports import IncomingFacts
from vanban.workflow.domain.service import LEADER_ROLES
from vanban.workflow.domain.tasks import Organisation, Unit

ROLE_NAMES = {
    value: name.removeprefix("ROLE_").lower()
    for name, value in directory_pb2.Role.items()
    if value != directory_pb2.ROLE_UNSPECIFIED
}
_PRIORITIES = {
    documents_pb2.PRIORITY_NORMAL: Priority.NORMAL,
    documents_pb2.PRIORITY_URGENT: Priority.URGENT,
    documents_pb2.PRIORITY_VERY_URGENT: Priority.VERY_URGENT,
    documents_pb2.PRIORITY_FLASH: Priority.FLASH,
}


class GrpcPeers:
    def __init__(
        self,
        *,
        documents: grpc.aio.Channel,
        directory: grpc.aio.Channel,
        service_token: Callable[[], str],
        timeout: float = 10.0,
        cache_seconds: float = 0.0,
    ) -> None:
        self._documents = documents_pb2_grpc.DocumentRegistryServiceStub(documents)
        self._directory = directory_pb2_grpc.DirectoryServiceStub(directory)
        self._token = service_token
        self._timeout = timeout
        # What the workflow asks as itself, kept `cache_seconds` (0: asked every time): the
        # units, a document's secrecy and urgency, a person. A change in the directory (a new
        # head) or in the registry (a secrecy corrected) counts here that much later.
        self._cache: TtlCache[tuple[str, str], Any] | None = (
            TtlCache(maxsize=20_000, ttl=cache_seconds) if cache_seconds > 0 else None
        )

    async def _cached(self, key: tuple[str, str], ask: Callable[[], Awaitable[Any]]) -> Any:
        if self._cache is None:
            return await ask()
        found = self._cache.get(key)
        if found is None:
            found = await ask()
            if found is not None:
                self._cache.put(key, found)
        return found

    def _as_service(self) -> tuple[tuple[str, str], ...]:
        return ((CALLER_METADATA_KEY, self._token()),)

    async def document_secrecy(self, document_id: str) -> Secrecy | None:
        facts = await self.incoming(document_id)
        return facts.secrecy if facts is not None else None

    async def incoming(self, document_id: str) -> IncomingFacts | None:
        return await self._cached(("incoming", document_id), lambda: self._facts(document_id))

    async def _facts(self, document_id: str) -> IncomingFacts | None:
        answer = await self._document(document_id, metadata=self._as_service())
        if answer is None:
            return None
        secrecy = secrecy_from_pb(answer.document.secrecy)
        priority = _PRIORITIES.get(answer.document.priority)
        if secrecy is None or priority is None:
            return None
        return IncomingFacts(secrecy=secrecy, priority=priority)

    async def people_not_cleared(self, people: Iterable[str], secrecy: Secrecy) -> list[str]:
        refused = []
        for person_id in dict.fromkeys(people):
            person = await self.person(person_id)
            if person is None or not person.active or not person.clearance.covers(secrecy):
                refused.append(person_id)
        return refused

    async def caller_can_read(self, document_id: str) -> bool:
        """Asked with the caller's own token: may they open the document?"""
        return await self._document(document_id, metadata=None) is not None

    async def _document(
        self, document_id: str, *, metadata: tuple[tuple[str, str], ...] | None
    ) -> documents_pb2.GetIncomingDocumentResponse | None:
        try:
            return await self._documents.GetIncomingDocument(
                documents_pb2.GetIncomingDocumentRequest(id=document_id),
                metadata=metadata,
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    async def outgoing(self, document_id: str) -> Draft | None:
        """The outgoing document, asked with the caller's own token: None when they may not
        open it (or it does not exist, or its secrecy is a level this workflow does not know)."""
        try:
            answer = await self._documents.GetOutgoingDocument(
                documents_pb2.GetOutgoingDocumentRequest(id=document_id), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise
        d = answer.document
        secrecy = secrecy_from_pb(d.secrecy)
        if secrecy is None:
            return None
        return Draft(
            id=d.id,
            is_draft=d.status == documents_pb2.DOCUMENT_STATUS_DRAFT,
            document_type=d.document_type,
            drafting_unit=d.drafting_unit,
            version=d.current_version,
            created_by=d.created_by,
            secrecy=secrecy,
        )

    async def person(self, person_id: str) -> Person | None:
        return await self._cached(("person", person_id), lambda: self._person(person_id))

    async def _person(self, person_id: str) -> Person | None:
        try:
            found = await self._directory.GetPerson(
                directory_pb2.GetPersonRequest(id=person_id),
                metadata=self._as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise
        p = found.person
        return Person(
            active=p.active,
            roles=frozenset(ROLE_NAMES[r] for r in p.roles if r in ROLE_NAMES),
            units=frozenset(p.unit_codes),
            clearance=clearance_from_pb(p.clearance) or Clearance.NONE,
        )

    async def is_leader(self, person_id: str) -> bool:
        person = await self.person(person_id)
        return person is not None and person.active and bool(person.roles & LEADER_ROLES)

    async def unknown_units(self, codes: Iterable[str]) -> list[str]:
        wanted = list(dict.fromkeys(codes))
        known = (await self.organisation()).units
        if any(code not in known for code in wanted):
            # A unit made a moment ago is not in what was kept: ask again before refusing.
            known = (await self.organisation(fresh=True)).units
        return [code for code in wanted if code not in known]

    async def organisation(self, *, fresh: bool = False) -> Organisation:
        """The units as the directory states them (a new head acts on the unit's tasks once the
        cache has let go of the former state); `fresh`: asked now, and kept."""
        if fresh and self._cache is not None:
            org = await self._units()
            self._cache.put(("units", ""), org)
            return org
        return await self._cached(("units", ""), self._units)

    async def _units(self) -> Organisation:
        answer = await self._directory.ListUnits(
            directory_pb2.ListUnitsRequest(), metadata=self._as_service(), timeout=self._timeout
        )
        units = {
            u.code: Unit(
                code=u.code,
                parent=u.parent_code or None,
                head=u.head_person_id or None,
                deputies=frozenset(u.deputy_person_ids),
            )
            for u in answer.units
        }
        return Organisation(units=units, members={})

    async def with_people(self, org: Organisation, people: Iterable[str]) -> Organisation:
        """`org` with the units and clearance of each of `people` (an unknown or inactive
        person has none)."""
        members: dict[str, frozenset[str]] = {}
        clearances: dict[str, Clearance] = {}
        for person_id in dict.fromkeys(people):
            person = await self.person(person_id)
            if person is not None and person.active:
                members[person_id] = person.units
                clearances[person_id] = person.clearance
        return replace(org, members=members, clearances=clearances)


class CallerItemAccess:
    """Whether the caller may open a document (the registry, asked with their token) or a task
    (the task's own rules), and the secrecy of what they may open."""

    def __init__(self, peers: GrpcPeers, tx: WorkflowTransaction, actor: Caller) -> None:
        self._peers = peers
        self._tx = tx
        self._actor = actor

    async def secrecy_if_open(self, kind: ItemKind, ref_id: str) -> Secrecy | None:
        if kind is ItemKind.INCOMING:
            if not await self._peers.caller_can_read(ref_id):
                return None
            facts = await self._peers.incoming(ref_id)
            return facts.secrecy if facts is not None else None
        if kind is ItemKind.OUTGOING:
            draft = await self._peers.outgoing(ref_id)
            return draft.secrecy if draft is not None else None
        try:
            view = await read_task(
                tx=self._tx, peers=self._peers, actor=self._actor, task_id=ref_id
            )
        except NotFoundError:
            return None
        return view.assignment.secrecy
