from __future__ import annotations

from collections.abc import Callable

import grpc

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.directory.adapters.grpc.convert import agency_to_pb, person_to_pb, role_filter
from vanban.directory.adapters.transaction import DirectoryTransaction
from vanban.directory.domain import service
from vanban.directory.domain.ports import PasswordHasher
from vanban.platform.caller import current_caller
from vanban.platform.db import UnitOfWork


class DirectoryServicer(directory_pb2_grpc.DirectoryServiceServicer):
    def __init__(self, *, uow_factory: Callable[[], UnitOfWork], hasher: PasswordHasher) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher

    async def Authenticate(
        self, request: pb.AuthenticateRequest, context: grpc.aio.ServicerContext
    ) -> pb.AuthenticateResponse:
        caller = current_caller()
        # Passwords reach the directory only through the gateway, never from a person directly.
        caller.require_service()
        async with self._uow_factory() as uow:
            person, agency = await service.authenticate(
                tx=DirectoryTransaction(uow, actor=caller.subject),
                hasher=self._hasher,
                username=request.username,
                password=request.password,
            )
        return pb.AuthenticateResponse(person=person_to_pb(person), agency=agency_to_pb(agency))

    async def GetAgency(
        self, request: pb.GetAgencyRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAgencyResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            agency = await service.get_agency(tx=DirectoryTransaction(uow, actor=caller.subject))
        return pb.GetAgencyResponse(agency=agency_to_pb(agency))

    async def GetPerson(
        self, request: pb.GetPersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPersonResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            person = await service.get_person(
                tx=DirectoryTransaction(uow, actor=caller.subject), person_id=request.id
            )
        return pb.GetPersonResponse(person=person_to_pb(person))

    async def ListPeople(
        self, request: pb.ListPeopleRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPeopleResponse:
        caller = current_caller()
        role = role_filter(request.role)
        async with self._uow_factory() as uow:
            people, next_token = await service.list_people(
                tx=DirectoryTransaction(uow, actor=caller.subject),
                role=role,
                requested_page_size=request.page_size,
                page_token=request.page_token,
            )
        return pb.ListPeopleResponse(
            people=[person_to_pb(person) for person in people], next_page_token=next_token
        )
