"""The signed-in person's own routes: who they are, and their password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.api.auth import PrincipalChangingPassword
from vanban.gateway.api.convert.me import me_out
from vanban.gateway.api.convert.sessions import token_out
from vanban.gateway.api.deps import Client, Directory, SignIns
from vanban.gateway.api.openapi import BODY, CALLER, UPSTREAM, answers
from vanban.gateway.api.schemas.me import MeOut, PasswordChangeIn
from vanban.gateway.api.schemas.sessions import TokenOut
from vanban.platform.errors import PermissionDeniedError

router = APIRouter(prefix="/v1/me", tags=["auth"])


@router.post(
    "/password",
    response_model=TokenOut,
    operation_id="changeMyPassword",
    responses=answers(
        *CALLER,
        *BODY,
        *UPSTREAM,
        "LOCAL_SIGN_IN_REQUIRED",
        "WRONG_CURRENT_PASSWORD",
        "INVALID_PASSWORD",
        "PASSWORD_UNCHANGED",
        "ACCOUNT_LOCKED",
        "ACCOUNT_THROTTLED",
        "ADDRESS_THROTTLED",
        "SIGN_IN_BUSY",
    ),
)
async def change_my_password(
    response: Response,
    principal: PrincipalChangingPassword,
    body: Annotated[
        PasswordChangeIn,
        Body(
            openapi_examples={
                "change": {
                    "summary": "Replace a password an administrator set",
                    "value": {
                        "current_password": "mật khẩu tạm thời",
                        "new_password": "một mật khẩu mới, dài và riêng",
                    },
                }
            }
        ),
    ],
    sign_ins: SignIns,
    client: Client,
) -> TokenOut:
    """Replaces the signed-in person's password (also one an administrator set to be changed).
    Every session of the person ends, this one included; the answer is a new session."""
    if principal.session is None:
        raise PermissionDeniedError(
            "only a person signed in here with a password can change it",
            reason="LOCAL_SIGN_IN_REQUIRED",
        )
    session = await sign_ins.change_password(
        person_id=principal.caller.subject,
        credentials=principal.metadata,
        current_password=body.current_password,
        new_password=body.new_password,
        client=client,
    )
    response.headers["Cache-Control"] = "no-store"
    return token_out(session)


@router.get(
    "",
    response_model=MeOut,
    operation_id="getMe",
    responses=answers(*CALLER, *UPSTREAM, "INVALID_PERSON_ID", "PERSON_NOT_FOUND"),
)
async def me(principal: PrincipalChangingPassword, directory: Directory) -> MeOut:
    """The signed-in person as the directory knows them, with what their token grants."""
    answer = await directory.stub.GetPerson(
        directory_pb2.GetPersonRequest(id=principal.caller.subject),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return me_out(principal.caller, answer.person)
