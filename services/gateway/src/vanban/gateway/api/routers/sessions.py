"""The token endpoint (sign-in, refresh) and sign-out: HTTP to the sign-in use cases and back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response, status

from vanban.gateway.api.convert.sessions import token_out
from vanban.gateway.api.deps import Client, SignIns
from vanban.gateway.api.openapi import ANYONE, BODY, answers
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.sessions import TokenOut

router = APIRouter(prefix="/v1/auth", tags=["auth"])

FORM = "application/x-www-form-urlencoded"
_TOKEN_BODY = {
    "requestBody": {
        "content": {
            FORM: {
                "examples": {
                    "password": {
                        "summary": "Sign in with a password",
                        "value": {
                            "grant_type": "password",
                            "username": "vanthu",
                            "password": "mật khẩu của bạn",
                        },
                    },
                    "refresh_token": {
                        "summary": "Exchange a refresh token",
                        "value": {
                            "grant_type": "refresh_token",
                            "refresh_token": "0b5c3f5e-8d0e-4b8a-9a57-2f1f8a4c7d11.secret",
                        },
                    },
                }
            }
        }
    }
}
_SIGN_OUT_BODY = {
    "requestBody": {
        "content": {
            FORM: {"example": {"refresh_token": "0b5c3f5e-8d0e-4b8a-9a57-2f1f8a4c7d11.secret"}}
        }
    }
}


@router.post(
    "/token",
    response_model=TokenOut,
    operation_id="issueToken",
    openapi_extra=_TOKEN_BODY,
    responses=answers(
        *ANYONE,
        *BODY,
        "INVALID_CREDENTIALS_FORMAT",
        "UNSUPPORTED_GRANT_TYPE",
        "REFRESH_TOKEN_MISSING",
        "BAD_CREDENTIALS",
        "REFRESH_TOKEN_INVALID",
        "REFRESH_TOKEN_REVOKED",
        "REFRESH_TOKEN_EXPIRED",
        "REFRESH_TOKEN_REUSED",
        "SESSION_ENDED",
        "ACCOUNT_INACTIVE",
        "ACCOUNT_LOCKED",
        "ACCOUNT_THROTTLED",
        "ADDRESS_THROTTLED",
        "TOO_MANY_SIGN_IN_ATTEMPTS",
        "SIGN_IN_BUSY",
        "UNAVAILABLE",
    ),
)
async def issue_token(
    response: Response,
    sign_ins: SignIns,
    client: Client,
    grant_type: Annotated[str, Form(max_length=32)] = "password",
    username: Annotated[str, Form(max_length=1024)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    refresh_token: Annotated[str, Form(max_length=256)] = "",
) -> TokenOut:
    """OAuth2 token endpoint: `grant_type=password` (username, password) signs a person in;
    `grant_type=refresh_token` (refresh_token) exchanges a refresh token for new tokens.

    Wrong passwords are limited per account and client address (429 `ACCOUNT_LOCKED`), per
    account and per address (429 `ACCOUNT_THROTTLED`, `ADDRESS_THROTTLED`, sparing addresses the
    person signed in from lately), and password checks in flight are bounded (429
    `TOO_MANY_SIGN_IN_ATTEMPTS`, 503 `SIGN_IN_BUSY`); each refusal says when to retry."""
    # RFC 6749 §5.1 (Cache-Control: no-store is on every answer of the gateway).
    response.headers["Pragma"] = "no-cache"
    if grant_type == "password":
        session = await sign_ins.sign_in(username=username, password=password, client=client)
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise HttpProblem(
                400, "REFRESH_TOKEN_MISSING", "refresh_token is required", field="refresh_token"
            )
        session = await sign_ins.refresh(presented=refresh_token)
    else:
        raise HttpProblem(
            400,
            "UNSUPPORTED_GRANT_TYPE",
            "grant_type must be password or refresh_token",
            field="grant_type",
        )
    return token_out(session)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="signOut",
    response_class=Response,
    openapi_extra=_SIGN_OUT_BODY,
    responses=answers(*ANYONE, *BODY),
)
async def sign_out(
    sign_ins: SignIns, refresh_token: Annotated[str, Form(max_length=256)]
) -> Response:
    """Ends the session the refresh token belongs to: every token it was rotated into, and
    the access tokens issued with them (on every replica within seconds)."""
    await sign_ins.sign_out(presented=refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
