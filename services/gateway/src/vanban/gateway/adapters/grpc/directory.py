"""The sign-in use cases' Directory port over the directory's gRPC API."""

from __future__ import annotations

import grpc

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.adapters.grpc.upstreams import Upstreams
from vanban.gateway.domain.ports import CallerCredentials
from vanban.gateway.domain.sign_in import WrongPasswordError
from vanban.platform.grpc.status import remote_error


def _wrong_password(exc: grpc.aio.AioRpcError, reason: str) -> WrongPasswordError | None:
    """The directory's refusal of a wrong password, passed on as it answered it."""
    err = remote_error(exc)
    if err.reason != reason:
        return None
    wrong = WrongPasswordError(err.message, reason=err.reason, violations=err.violations)
    if err.code is not None:
        wrong.code = err.code
    return wrong


class DirectoryAccounts:
    def __init__(self, upstreams: Upstreams) -> None:
        self._up = upstreams

    async def authenticate(self, *, username: str, password: str) -> directory_pb2.Person:
        """Checks a password as the gateway itself (sign-in has no caller yet)."""
        try:
            answer = await self._up.directory.Authenticate(
                directory_pb2.AuthenticateRequest(username=username, password=password),
                metadata=self._up.service_metadata(),
                timeout=self._up.timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if (wrong := _wrong_password(exc, "BAD_CREDENTIALS")) is not None:
                raise wrong from None
            raise
        return answer.person

    async def change_password(
        self, *, credentials: CallerCredentials, current_password: str, new_password: str
    ) -> directory_pb2.Person:
        """Changes the caller's own password, as the caller."""
        try:
            answer = await self._up.directory.ChangePassword(
                directory_pb2.ChangePasswordRequest(
                    current_password=current_password, new_password=new_password
                ),
                metadata=credentials,
                timeout=self._up.timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if (wrong := _wrong_password(exc, "WRONG_CURRENT_PASSWORD")) is not None:
                raise wrong from None
            raise
        return answer.person

    async def person(self, person_id: str) -> directory_pb2.Person:
        answer = await self._up.directory.GetPerson(
            directory_pb2.GetPersonRequest(id=person_id),
            metadata=self._up.service_metadata(),
            timeout=self._up.timeout,
        )
        return answer.person
