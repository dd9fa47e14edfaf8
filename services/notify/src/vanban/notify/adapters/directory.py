"""The directory service as notify's `People` port, over its gRPC contract."""

from __future__ import annotations

import grpc

from vanban.contracts.directory.v1 import directory_pb2 as dpb
from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.notify.domain.model import Recipient
from vanban.platform.clearance import Clearance
from vanban.platform.convert import clearance_from_pb
from vanban.platform.errors import UnavailableError
from vanban.platform.grpc.status import remote_error

PAGE_SIZE = 500


class DirectoryPeople:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float = 10.0) -> None:
        self._stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        self._timeout = timeout

    async def active_clerks(self) -> list[Recipient]:
        clerks: list[Recipient] = []
        token = ""
        while True:
            try:
                response = await self._stub.ListPeople(
                    dpb.ListPeopleRequest(
                        role=dpb.ROLE_CLERK, page_size=PAGE_SIZE, page_token=token
                    ),
                    timeout=self._timeout,
                )
            except grpc.aio.AioRpcError as exc:
                error = remote_error(exc)
                raise UnavailableError(
                    f"the directory could not list the clerks: {exc.code().name} {error.message}",
                    reason="DIRECTORY_UNAVAILABLE",
                ) from exc
            clerks.extend(
                Recipient(
                    id=person.id,
                    # A level this notify does not know grants nothing more than none.
                    clearance=clearance_from_pb(person.clearance) or Clearance.NONE,
                    active=person.active,
                )
                for person in response.people
            )
            token = response.next_page_token
            if not token:
                return clerks
