"""The directory's password checks as the sign-in use cases see them: a wrong password is a
`WrongPasswordError` that answers the client exactly as the directory's own refusal did; every
other failure passes through unchanged (the check could not be made)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from vanban.gateway.adapters.grpc.directory import DirectoryAccounts
from vanban.gateway.api.problems import problem_for
from vanban.gateway.domain.sign_in import WrongPasswordError
from vanban.platform.errors import (
    DomainError,
    InvalidArgumentError,
    UnauthenticatedError,
    UnavailableError,
    invalid_fields,
)
from vanban.platform.grpc.status import DETAILS_KEY, to_rich_status


def rpc_error(code: grpc.StatusCode, error: DomainError) -> grpc.aio.AioRpcError:
    trailing = grpc.aio.Metadata((DETAILS_KEY, to_rich_status(error).SerializeToString()))
    return grpc.aio.AioRpcError(
        code,
        initial_metadata=grpc.aio.Metadata(),
        trailing_metadata=trailing,
        details=error.message,
    )


class Refusing:
    def __init__(self, error: grpc.aio.AioRpcError) -> None:
        self.error = error

    async def Authenticate(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error

    async def ChangePassword(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


class Upstreams:
    def __init__(self, error: grpc.aio.AioRpcError) -> None:
        self.directory = Refusing(error)
        self.timeout = 1.0

    def service_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("x-vanban-caller", "gateway"),)


def accounts(error: grpc.aio.AioRpcError) -> DirectoryAccounts:
    return DirectoryAccounts(Upstreams(error))  # type: ignore[arg-type]  # the calls used, refused


async def test_a_wrong_password_answers_the_client_as_the_directory_did() -> None:
    refusal = rpc_error(
        grpc.StatusCode.UNAUTHENTICATED,
        UnauthenticatedError("wrong username or password", reason="BAD_CREDENTIALS"),
    )

    with pytest.raises(WrongPasswordError) as wrong:
        await accounts(refusal).authenticate(username="an", password="x")

    assert problem_for(wrong.value) == problem_for(refusal)


async def test_a_wrong_current_password_keeps_its_status_and_fields() -> None:
    error = invalid_fields(
        {"current_password": "is not your password"}, reason="WRONG_CURRENT_PASSWORD"
    )
    refusal = rpc_error(grpc.StatusCode.INVALID_ARGUMENT, error)

    with pytest.raises(WrongPasswordError) as wrong:
        await accounts(refusal).change_password(
            credentials=(), current_password="x", new_password="y"
        )

    assert problem_for(wrong.value) == problem_for(refusal)
    assert problem_for(wrong.value)[0].status == 400


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (grpc.StatusCode.UNAVAILABLE, UnavailableError("down")),
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidArgumentError("no", reason="INVALID_PASSWORD")),
    ],
)
async def test_any_other_failure_is_not_a_wrong_password(
    code: grpc.StatusCode, error: DomainError
) -> None:
    refusal = rpc_error(code, error)

    with pytest.raises(grpc.aio.AioRpcError):
        await accounts(refusal).authenticate(username="an", password="x")
    with pytest.raises(grpc.aio.AioRpcError):
        await accounts(refusal).change_password(
            credentials=(), current_password="x", new_password="y"
        )
