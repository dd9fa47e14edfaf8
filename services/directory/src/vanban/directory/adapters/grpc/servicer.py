from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

import grpc

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.directory.adapters.archive import ArchiveObjectStore
from vanban.directory.adapters.grpc.convert import (
    agency_changes,
    agency_to_pb,
    delegation_draft,
    delegation_to_pb,
    person_changes,
    person_draft,
    person_to_pb,
    role_filter,
    unit_changes,
    unit_from_pb,
    unit_to_pb,
)
from vanban.directory.adapters.transaction import DirectoryTransaction
from vanban.directory.domain import (
    access,
    delegation_service,
    image_service,
    import_service,
    organisation_service,
    person_service,
    service,
)
from vanban.directory.domain.delegation import Delegation
from vanban.directory.domain.model import Person
from vanban.directory.domain.people_import import ImportFormat
from vanban.directory.domain.ports import PasswordHasher
from vanban.platform.caller import CALLER_METADATA_KEY, Caller, current_caller
from vanban.platform.convert import optional_datetime
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import invalid_fields

IMPORT_FORMATS = {pb.IMPORT_FORMAT_CSV: ImportFormat.CSV, pb.IMPORT_FORMAT_JSON: ImportFormat.JSON}


def _person(caller: Caller, person: Person) -> pb.Person:
    # The directory decides what of a person each caller sees (access.sees_private_details).
    return person_to_pb(person, private=access.sees_private_details(caller, person.id))


def _delegation(caller: Caller, delegation: Delegation) -> pb.Delegation:
    return delegation_to_pb(delegation, reasons=access.sees_delegation_reasons(caller, delegation))


def _caller_token(context: grpc.aio.ServicerContext) -> str | None:
    """The caller token this call arrived with, to pass on to a peer unchanged."""
    for key, value in context.invocation_metadata() or ():
        if key == CALLER_METADATA_KEY:
            return str(value)
    return None


class DirectoryServicer(directory_pb2_grpc.DirectoryServiceServicer):
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        hasher: PasswordHasher,
        store: ArchiveObjectStore,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._store = store

    def _transaction(self, caller: Caller) -> AbstractAsyncContextManager[DirectoryTransaction]:
        return DirectoryTransaction.factory(self._uow_factory, actor=caller.subject)()

    async def Authenticate(
        self, request: pb.AuthenticateRequest, context: grpc.aio.ServicerContext
    ) -> pb.AuthenticateResponse:
        caller = current_caller()
        # Passwords reach the directory only through the gateway, never from a person directly.
        caller.require_service()
        async with self._transaction(caller) as tx:
            person, agency = await service.authenticate(
                tx=tx, hasher=self._hasher, username=request.username, password=request.password
            )
        return pb.AuthenticateResponse(person=_person(caller, person), agency=agency_to_pb(agency))

    async def GetAgency(
        self, request: pb.GetAgencyRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAgencyResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            agency = await service.get_agency(tx=tx)
        return pb.GetAgencyResponse(agency=agency_to_pb(agency))

    async def GetPerson(
        self, request: pb.GetPersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPersonResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            person = await service.get_person(tx=tx, person_id=request.id)
        return pb.GetPersonResponse(person=_person(caller, person))

    async def ListPeople(
        self, request: pb.ListPeopleRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPeopleResponse:
        caller = current_caller()
        role = role_filter(request.role)
        async with self._transaction(caller) as tx:
            people, next_token = await service.list_people(
                tx=tx,
                role=role,
                requested_page_size=request.page_size,
                page_token=request.page_token,
            )
        return pb.ListPeopleResponse(
            people=[_person(caller, person) for person in people], next_page_token=next_token
        )

    async def UpdateAgency(
        self, request: pb.UpdateAgencyRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateAgencyResponse:
        caller = current_caller()
        changes = agency_changes(request.agency, request.update_mask)
        async with self._transaction(caller) as tx:
            agency = await organisation_service.update_agency(
                tx=tx, caller=caller, changes=changes, now=datetime.now(UTC)
            )
        return pb.UpdateAgencyResponse(agency=agency_to_pb(agency))

    async def CreateUnit(
        self, request: pb.CreateUnitRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateUnitResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            unit = await organisation_service.create_unit(
                tx=tx, caller=caller, unit=unit_from_pb(request.unit), now=datetime.now(UTC)
            )
        return pb.CreateUnitResponse(unit=unit_to_pb(unit))

    async def UpdateUnit(
        self, request: pb.UpdateUnitRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateUnitResponse:
        caller = current_caller()
        changes = unit_changes(request.unit, request.update_mask)
        async with self._transaction(caller) as tx:
            unit = await organisation_service.update_unit(
                tx=tx,
                caller=caller,
                code=request.unit.code,
                changes=changes,
                now=datetime.now(UTC),
            )
        return pb.UpdateUnitResponse(unit=unit_to_pb(unit))

    async def GetUnit(
        self, request: pb.GetUnitRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUnitResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            unit = await organisation_service.get_unit(tx=tx, code=request.code)
        return pb.GetUnitResponse(unit=unit_to_pb(unit))

    async def ListUnits(
        self, request: pb.ListUnitsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListUnitsResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            units = await organisation_service.list_units(tx=tx)
        return pb.ListUnitsResponse(units=[unit_to_pb(unit) for unit in units])

    async def DeleteUnit(
        self, request: pb.DeleteUnitRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteUnitResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            await organisation_service.delete_unit(
                tx=tx, caller=caller, code=request.code, now=datetime.now(UTC)
            )
        return pb.DeleteUnitResponse()

    async def CreatePerson(
        self, request: pb.CreatePersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreatePersonResponse:
        caller = current_caller()
        draft = person_draft(request.person)
        async with self._transaction(caller) as tx:
            person = await person_service.create_person(
                tx=tx,
                caller=caller,
                hasher=self._hasher,
                draft=draft,
                password=request.password,
                must_change=request.password_must_change,
                now=datetime.now(UTC),
            )
        return pb.CreatePersonResponse(person=_person(caller, person))

    async def UpdatePerson(
        self, request: pb.UpdatePersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdatePersonResponse:
        caller = current_caller()
        changes = person_changes(request.person, request.update_mask)
        async with self._transaction(caller) as tx:
            person = await person_service.update_person(
                tx=tx,
                caller=caller,
                person_id=request.person.id,
                changes=changes,
                now=datetime.now(UTC),
            )
        return pb.UpdatePersonResponse(person=_person(caller, person))

    async def SetPassword(
        self, request: pb.SetPasswordRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetPasswordResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            person = await person_service.set_password(
                tx=tx,
                caller=caller,
                hasher=self._hasher,
                person_id=request.person_id,
                password=request.password,
                must_change=request.must_change,
                now=datetime.now(UTC),
            )
        return pb.SetPasswordResponse(person=_person(caller, person))

    async def ChangePassword(
        self, request: pb.ChangePasswordRequest, context: grpc.aio.ServicerContext
    ) -> pb.ChangePasswordResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            person = await person_service.change_own_password(
                tx=tx,
                caller=caller,
                hasher=self._hasher,
                current_password=request.current_password,
                new_password=request.new_password,
                now=datetime.now(UTC),
            )
        return pb.ChangePasswordResponse(person=_person(caller, person))

    async def DeactivatePerson(
        self, request: pb.DeactivatePersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeactivatePersonResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            person = await person_service.deactivate_person(
                tx=tx, caller=caller, person_id=request.person_id, now=datetime.now(UTC)
            )
        return pb.DeactivatePersonResponse(person=_person(caller, person))

    async def FindPerson(
        self, request: pb.FindPersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.FindPersonResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            person = await person_service.find_person(
                tx=tx,
                caller=caller,
                username=request.username,
                external_subject=request.external_subject,
                email=request.email,
            )
        return pb.FindPersonResponse(person=_person(caller, person))

    async def CreateDelegation(
        self, request: pb.CreateDelegationRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateDelegationResponse:
        caller = current_caller()
        draft = delegation_draft(request.delegation)
        async with self._transaction(caller) as tx:
            delegation = await delegation_service.create_delegation(
                tx=tx, caller=caller, draft=draft, now=datetime.now(UTC)
            )
        return pb.CreateDelegationResponse(delegation=_delegation(caller, delegation))

    async def RevokeDelegation(
        self, request: pb.RevokeDelegationRequest, context: grpc.aio.ServicerContext
    ) -> pb.RevokeDelegationResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            delegation = await delegation_service.revoke_delegation(
                tx=tx,
                caller=caller,
                delegation_id=request.id,
                reason=request.reason,
                now=datetime.now(UTC),
            )
        return pb.RevokeDelegationResponse(delegation=_delegation(caller, delegation))

    async def ListDelegations(
        self, request: pb.ListDelegationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDelegationsResponse:
        caller = current_caller()
        async with self._transaction(caller) as tx:
            delegations, next_token = await delegation_service.list_delegations(
                tx=tx,
                person_id=request.person_id,
                active_at=optional_datetime(request, "active_at"),
                requested_page_size=request.page_size,
                page_token=request.page_token,
            )
        return pb.ListDelegationsResponse(
            delegations=[_delegation(caller, d) for d in delegations], next_page_token=next_token
        )

    async def SetSignatureImage(
        self, request: pb.SetSignatureImageRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetSignatureImageResponse:
        caller = current_caller()
        person = await image_service.set_signature_image(
            transactions=DirectoryTransaction.factory(self._uow_factory, actor=caller.subject),
            caller=caller,
            store=self._store.for_caller(_caller_token(context)),
            person_id=request.person_id,
            png=request.png,
            now=datetime.now(UTC),
        )
        return pb.SetSignatureImageResponse(person=_person(caller, person))

    async def SetSealImage(
        self, request: pb.SetSealImageRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetSealImageResponse:
        caller = current_caller()
        agency = await image_service.set_seal_image(
            transactions=DirectoryTransaction.factory(self._uow_factory, actor=caller.subject),
            caller=caller,
            store=self._store.for_caller(_caller_token(context)),
            png=request.png,
            now=datetime.now(UTC),
        )
        return pb.SetSealImageResponse(agency=agency_to_pb(agency))

    async def ImportPeople(
        self, request: pb.ImportPeopleRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportPeopleResponse:
        caller = current_caller()
        file_format = IMPORT_FORMATS.get(request.format)
        if file_format is None:
            raise invalid_fields({"format": "must be CSV or JSON"}, reason="INVALID_FORMAT")
        report = await import_service.import_people(
            transactions=DirectoryTransaction.factory(self._uow_factory, actor=caller.subject),
            caller=caller,
            hasher=self._hasher,
            file_format=file_format,
            content=request.content,
            dry_run=request.dry_run,
            now=datetime.now(UTC),
        )
        return pb.ImportPeopleResponse(
            problems=[
                pb.ImportProblem(line=p.line, field=p.field, message=p.message)
                for p in report.problems
            ],
            rows=report.rows,
            imported=report.imported,
            dry_run=report.dry_run,
        )
