"""Sign-in, token refresh, sign-out and who-am-I."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import grpc
from fastapi import APIRouter, Form, Request, Response, status

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.adapters.db.revocations import SqlRevocationLog
from vanban.gateway.adapters.db.sessions import SqlSessionStore
from vanban.gateway.adapters.grpc.upstreams import Upstreams
from vanban.gateway.api.admission import ClientAddress, client_of
from vanban.gateway.api.auth import (
    AccessTokens,
    PrincipalChangingPassword,
    SessionGrant,
    caller_from_person,
)
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.incoming_documents import (
    DelegationOut,
    MeOut,
    PasswordChangeIn,
    TokenOut,
)
from vanban.gateway.domain import sessions
from vanban.gateway.domain.revocations import Revocation, session_ended
from vanban.gateway.domain.throttle import PasswordCheckGate
from vanban.platform.caller import Caller
from vanban.platform.errors import PermissionDeniedError, UnauthenticatedError
from vanban.platform.grpc.status import remote_error

router = APIRouter(prefix="/v1", tags=["auth"])


def _upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


@router.post("/auth/token", response_model=TokenOut, operation_id="issueToken")
async def issue_token(
    request: Request,
    response: Response,
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
        return await _password_grant(request, username=username, password=password)
    if grant_type == "refresh_token":
        return await _refresh_grant(request, presented=refresh_token)
    raise HttpProblem(
        400,
        "UNSUPPORTED_GRANT_TYPE",
        "grant_type must be password or refresh_token",
        field="grant_type",
    )


async def _password_grant(request: Request, *, username: str, password: str) -> TokenOut:
    settings = request.app.state.settings
    policy: sessions.SignInPolicy = request.app.state.sign_in_policy
    gate: PasswordCheckGate = request.app.state.password_checks
    up = _upstreams(request)
    account = sessions.account_key(username, password=password)
    client = client_of(request.scope)
    async with gate.address_slot(client.key):
        now = datetime.now(UTC)
        # Counted, and recorded as a failure until the check says otherwise, in a transaction of
        # its own: no lock or database connection is held while the directory checks.
        async with request.app.state.uow() as uow:
            attempt = await sessions.admit_attempt(
                store=SqlSessionStore(uow.session),
                account=account,
                address=client.key,
                now=now,
                policy=policy,
            )
            await uow.commit()
        outcome = "not checked"
        try:
            async with gate.check_slot():
                answer = await up.directory.Authenticate(
                    directory_pb2.AuthenticateRequest(username=username, password=password),
                    metadata=up.service_metadata(),
                    timeout=up.timeout,
                )
            outcome = "right"
        except grpc.aio.AioRpcError as exc:
            if remote_error(exc).reason == "BAD_CREDENTIALS":
                outcome = "wrong"
            raise
        finally:
            if outcome != "right":
                await _settle_failed(request, attempt, policy, client, wrong=outcome == "wrong")
        async with request.app.state.uow() as uow:
            store = SqlSessionStore(uow.session)
            # This address knows the password: its failures go (the advance one too), and it
            # is known from now on.
            await store.clear_failures(account, address=client.key)
            await store.remember_address(account, address=client.key, at=now)
            caller = caller_from_person(answer.person, agency_code=settings.agency_code)
            token, record = sessions.new_refresh_token(
                person_id=caller.subject,
                now=now,
                ttl=_refresh_ttl(request),
                session_version=answer.person.session_version,
            )
            await store.add_refresh_token(record)
            uow.audit(
                actor=caller.subject,
                action="session.sign_in",
                resource=f"sessions/{record.family_id}",
                after={"address": client.ip},
            )
            await uow.commit()
    return _tokens(request, caller, answer.person, token, record)


async def _settle_failed(
    request: Request,
    attempt: sessions.Attempt,
    policy: sessions.SignInPolicy,
    client: ClientAddress,
    *,
    wrong: bool,
) -> None:
    """A wrong password keeps its advance failure and is audited, with any limit it reached; a
    check that could not be made (directory unavailable, no slot) takes it back."""
    async with request.app.state.uow() as uow:
        if not wrong:
            await SqlSessionStore(uow.session).forget_failure(attempt.reservation)
        else:
            seen_from = {"address": client.ip}
            actor = f"user:{attempt.account}"
            uow.audit(
                actor=actor,
                action="session.sign_in_failed",
                resource=f"accounts/{attempt.account}",
                after=seen_from,
            )
            for limit in attempt.limits_reached_by_failure(policy):
                resource = (
                    f"addresses/{client.key}"
                    if limit == "address_throttled"
                    else f"accounts/{attempt.account}"
                )
                uow.audit(
                    actor=actor, action=f"session.{limit}", resource=resource, after=seen_from
                )
        await uow.commit()


async def _refresh_grant(request: Request, *, presented: str) -> TokenOut:
    if not presented:
        raise HttpProblem(
            400, "REFRESH_TOKEN_MISSING", "refresh_token is required", field="refresh_token"
        )
    settings = request.app.state.settings
    up = _upstreams(request)
    now = datetime.now(UTC)
    async with request.app.state.uow() as uow:
        store = SqlSessionStore(uow.session)
        try:
            token, record = await sessions.rotate(
                store=store, presented=presented, now=now, ttl=_refresh_ttl(request)
            )
        except sessions.RefreshTokenReusedError as exc:
            uow.audit(
                actor=exc.metadata["person_id"],
                action="session.refresh_reused",
                resource=f"sessions/{exc.metadata['family_id']}",
            )
            await uow.commit()  # keep the family's revocation
            raise
        answer = await up.directory.GetPerson(
            directory_pb2.GetPersonRequest(id=record.person_id),
            metadata=up.service_metadata(),
            timeout=up.timeout,
        )
        if not answer.person.active:
            await store.revoke_family(record.family_id, at=now)
            await uow.commit()
            raise UnauthenticatedError("the account is deactivated", reason="ACCOUNT_INACTIVE")
        if sessions.session_outdated(record, current_version=answer.person.session_version):
            await store.revoke_family(record.family_id, at=now)
            uow.audit(
                actor=record.person_id,
                action="session.ended_by_directory",
                resource=f"sessions/{record.family_id}",
            )
            await uow.commit()
            raise session_ended()
        await uow.commit()
    caller = caller_from_person(answer.person, agency_code=settings.agency_code)
    return _tokens(request, caller, answer.person, token, record)


def _refresh_ttl(request: Request) -> timedelta:
    return timedelta(seconds=request.app.state.settings.refresh_token_ttl_seconds)


def _tokens(
    request: Request,
    caller: Caller,
    person: directory_pb2.Person,
    refresh: str,
    record: sessions.RefreshToken,
) -> TokenOut:
    tokens: AccessTokens = request.app.state.access_tokens
    session = SessionGrant(
        session_version=record.session_version,
        family_id=record.family_id,
        must_change_password=person.password_must_change,
    )
    return TokenOut(
        access_token=tokens.issue(caller, name=person.full_name, session=session),
        expires_in=tokens.ttl,
        refresh_token=refresh,
        refresh_expires_in=request.app.state.settings.refresh_token_ttl_seconds,
        password_must_change=person.password_must_change,
    )


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="signOut",
    response_class=Response,
)
async def sign_out(
    request: Request, refresh_token: Annotated[str, Form(max_length=256)]
) -> Response:
    """Ends the session the refresh token belongs to: every token it was rotated into, and
    the access tokens issued with them (on every replica within seconds)."""
    now = datetime.now(UTC)
    async with request.app.state.uow() as uow:
        record = await sessions.revoke(
            store=SqlSessionStore(uow.session), presented=refresh_token, now=now
        )
        if record is not None:
            await SqlRevocationLog(uow.session).end_family(record.family_id, at=now)
            uow.audit(
                actor=record.person_id,
                action="session.sign_out",
                resource=f"sessions/{record.family_id}",
            )
        await uow.commit()
    if record is not None:
        request.app.state.revocations.apply(Revocation(at=now, family_id=record.family_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/me/password",
    response_model=TokenOut,
    operation_id="changeMyPassword",
    responses={400: {"description": "WRONG_CURRENT_PASSWORD, INVALID_PASSWORD"}},
)
async def change_my_password(
    request: Request,
    response: Response,
    principal: PrincipalChangingPassword,
    body: PasswordChangeIn,
) -> TokenOut:
    """Replaces the signed-in person's password (also one an administrator set to be changed).
    Every session of the person ends, this one included; the answer is a new session."""
    if principal.session is None:
        raise PermissionDeniedError(
            "only a person signed in here with a password can change it",
            reason="LOCAL_SIGN_IN_REQUIRED",
        )
    settings = request.app.state.settings
    policy: sessions.SignInPolicy = request.app.state.sign_in_policy
    gate: PasswordCheckGate = request.app.state.password_checks
    up = _upstreams(request)
    person_id = principal.caller.subject
    # Wrong current passwords count like wrong sign-ins (per person and address, under the same
    # limits), so a stolen access token cannot be used to guess the password and keep the
    # account.
    account = f"person:{person_id}"
    client = client_of(request.scope)
    now = datetime.now(UTC)
    async with request.app.state.uow() as uow:
        attempt = await sessions.admit_attempt(
            store=SqlSessionStore(uow.session),
            account=account,
            address=client.key,
            now=now,
            policy=policy,
        )
        await uow.commit()
    try:
        async with gate.check_slot():
            answer = await up.directory.ChangePassword(
                directory_pb2.ChangePasswordRequest(
                    current_password=body.current_password, new_password=body.new_password
                ),
                metadata=principal.metadata,
                timeout=up.timeout,
            )
    except BaseException as exc:
        wrong = (
            isinstance(exc, grpc.aio.AioRpcError)
            and remote_error(exc).reason == "WRONG_CURRENT_PASSWORD"
        )
        async with request.app.state.uow() as uow:
            if wrong:
                uow.audit(
                    actor=person_id,
                    action="person.password.change_failed",
                    resource=f"people/{person_id}",
                    after={"address": client.ip},
                )
            else:  # not a guess: the advance failure goes
                await SqlSessionStore(uow.session).forget_failure(attempt.reservation)
            await uow.commit()
        raise
    person = answer.person
    async with request.app.state.uow() as uow:
        store = SqlSessionStore(uow.session)
        await store.clear_failures(account, address=client.key)
        await SqlRevocationLog(uow.session).end_sessions_below(
            person_id, person.session_version, at=now
        )
        token, record = sessions.new_refresh_token(
            person_id=person_id,
            now=now,
            ttl=_refresh_ttl(request),
            session_version=person.session_version,
        )
        await store.add_refresh_token(record)
        uow.audit(
            actor=person_id,
            action="session.sign_in",
            resource=f"sessions/{record.family_id}",
            after={"address": client.ip},
        )
        await uow.commit()
    request.app.state.revocations.apply(
        Revocation(at=now, person_id=person_id, min_version=person.session_version)
    )
    caller = caller_from_person(person, agency_code=settings.agency_code)
    response.headers["Cache-Control"] = "no-store"
    return _tokens(request, caller, person, token, record)


@router.get("/me", response_model=MeOut, operation_id="getMe")
async def me(request: Request, principal: PrincipalChangingPassword) -> MeOut:
    """The signed-in person as the directory knows them, with what their token grants."""
    up = _upstreams(request)
    answer = await up.directory.GetPerson(
        directory_pb2.GetPersonRequest(id=principal.caller.subject),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    person = answer.person
    return MeOut(
        id=person.id,
        username=person.username,
        full_name=person.full_name,
        position_title=person.position_title,
        agency_code=principal.caller.agency_code,
        roles=sorted(principal.caller.roles),
        units=list(principal.caller.units),
        clearance=principal.caller.clearance,
        password_must_change=person.password_must_change,
        acting_for=[
            DelegationOut(
                id=d["id"],
                from_person_id=d["from"],
                scope=d["scope"].split(","),
                starts_at=datetime.fromisoformat(d["starts_at"]),
                ends_at=datetime.fromisoformat(d["ends_at"]),
            )
            for d in principal.caller.delegations
        ],
    )
