"""Use cases of sign-in sessions: a password sign-in, a refresh, a sign-out, a password change.

The HTTP routes only translate to these and back. The ports (`domain.ports`) are the directory's
password checks, the gateway's database (one short transaction per step: no lock or connection
is held while the directory checks a password), the access tokens and the clock.

Limits (`domain.sessions`, ADR 0008): each attempt is counted under the account's lock and
recorded as a failure *before* the password is checked, so parallel guesses never pass a count;
a wrong password keeps that failure (and is audited, with any limit it reached), a check that
could not be made takes it back, the right password clears the address's failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic

from vanban.gateway.domain import sessions
from vanban.gateway.domain.ports import (
    AccessTokenIssuer,
    AccountT,
    CallerCredentials,
    Client,
    Clock,
    Directory,
    Transactions,
)
from vanban.gateway.domain.revocations import Revocation, Revocations, session_ended
from vanban.gateway.domain.throttle import PasswordCheckGate
from vanban.platform.errors import DomainError, UnauthenticatedError


class WrongPasswordError(DomainError):
    """The directory checked the password and it is wrong (`BAD_CREDENTIALS` at sign-in,
    `WRONG_CURRENT_PASSWORD` at a change): an attempt that counts. The directory's answer
    (code, reason, message, fields) is passed on as it is."""

    reason = "BAD_CREDENTIALS"


@dataclass(frozen=True, slots=True)
class Session:
    """The tokens of a session, as a sign-in, refresh or password change answers them."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    # Set by an administrator: until it is changed, the tokens open nothing else.
    password_must_change: bool


def utc_now() -> datetime:
    return datetime.now(UTC)


class SignInService(Generic[AccountT]):
    def __init__(
        self,
        *,
        transactions: Transactions,
        directory: Directory[AccountT],
        tokens: AccessTokenIssuer[AccountT],
        password_checks: PasswordCheckGate,
        policy: sessions.SignInPolicy,
        revocations: Revocations,
        refresh_ttl: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self._transactions = transactions
        self._directory = directory
        self._tokens = tokens
        self._checks = password_checks
        self._policy = policy
        self._revocations = revocations
        self._refresh_ttl = refresh_ttl
        self._clock = clock

    async def _admit(self, account: str, *, client: Client, now: datetime) -> sessions.Attempt:
        """Counts the attempt in advance, under the account's lock, in its own transaction:
        a check that is then refused or cut off still counted."""
        async with self._transactions() as tx:
            attempt = await sessions.admit_attempt(
                store=tx.sessions,
                account=account,
                address=client.key,
                now=now,
                policy=self._policy,
            )
            await tx.commit()
        return attempt

    async def sign_in(self, *, username: str, password: str, client: Client) -> Session:
        """Signs a person in with their password (`grant_type=password`).

        Refused before anything is counted: a name or password the directory would refuse
        unchecked. Then the address's turn (`TooManyAttemptsError`), the limits
        (`AccountLockedError`, `SignInThrottledError`), a password-check slot
        (`SignInBusyError`) and the directory (`WrongPasswordError`)."""
        account = sessions.account_key(username, password=password)
        async with self._checks.address_slot(client.key):
            now = self._clock()
            attempt = await self._admit(account, client=client, now=now)
            outcome = "not checked"
            try:
                async with self._checks.check_slot():
                    person = await self._directory.authenticate(
                        username=username, password=password
                    )
                outcome = "right"
            except WrongPasswordError:
                outcome = "wrong"
                raise
            finally:
                if outcome != "right":
                    await self._settle_failed(attempt, client, wrong=outcome == "wrong")
            async with self._transactions() as tx:
                # This address knows the password: its failures go (the advance one too), and
                # it is known from now on.
                await tx.sessions.clear_failures(account, address=client.key)
                await tx.sessions.remember_address(account, address=client.key, at=now)
                token, record = sessions.new_refresh_token(
                    person_id=person.id,
                    now=now,
                    ttl=self._refresh_ttl,
                    session_version=person.session_version,
                )
                await tx.sessions.add_refresh_token(record)
                tx.audit_as(
                    actor=person.id,
                    action="session.sign_in",
                    resource=f"sessions/{record.family_id}",
                    after={"address": client.ip},
                )
                await tx.commit()
        return self._session(person, token, record)

    async def _settle_failed(
        self, attempt: sessions.Attempt, client: Client, *, wrong: bool
    ) -> None:
        """A wrong password keeps its advance failure and is audited, with any limit it
        reached; a check that could not be made (directory unavailable, no slot) takes it
        back."""
        async with self._transactions() as tx:
            if not wrong:
                await tx.sessions.forget_failure(attempt.reservation)
            else:
                seen_from: dict[str, object] = {"address": client.ip}
                actor = f"user:{attempt.account}"
                tx.audit_as(
                    actor=actor,
                    action="session.sign_in_failed",
                    resource=f"accounts/{attempt.account}",
                    after=seen_from,
                )
                for limit in attempt.limits_reached_by_failure(self._policy):
                    resource = (
                        f"addresses/{attempt.address}"
                        if limit == "address_throttled"
                        else f"accounts/{attempt.account}"
                    )
                    tx.audit_as(
                        actor=actor, action=f"session.{limit}", resource=resource, after=seen_from
                    )
            await tx.commit()

    async def refresh(self, *, presented: str) -> Session:
        """Exchanges a refresh token for its successor and a new access token
        (`grant_type=refresh_token`). A token used twice ends its whole session; so does a
        person the directory has changed or deactivated since the session began."""
        now = self._clock()
        async with self._transactions() as tx:
            try:
                token, record = await sessions.rotate(
                    store=tx.sessions, presented=presented, now=now, ttl=self._refresh_ttl
                )
            except sessions.RefreshTokenReusedError as exc:
                tx.audit_as(
                    actor=exc.metadata["person_id"],
                    action="session.refresh_reused",
                    resource=f"sessions/{exc.metadata['family_id']}",
                )
                await tx.commit()  # keep the family's revocation
                raise
            person = await self._directory.person(record.person_id)
            if not person.active:
                await tx.sessions.revoke_family(record.family_id, at=now)
                await tx.commit()
                raise UnauthenticatedError("the account is deactivated", reason="ACCOUNT_INACTIVE")
            if sessions.session_outdated(record, current_version=person.session_version):
                await tx.sessions.revoke_family(record.family_id, at=now)
                tx.audit_as(
                    actor=record.person_id,
                    action="session.ended_by_directory",
                    resource=f"sessions/{record.family_id}",
                )
                await tx.commit()
                raise session_ended()
            await tx.commit()
        return self._session(person, token, record)

    async def sign_out(self, *, presented: str) -> None:
        """Ends the session the refresh token belongs to: every token it was rotated into, and
        the access tokens issued with them (here at once, on every replica within seconds). An
        unknown or already revoked token is not an error (RFC 7009)."""
        now = self._clock()
        async with self._transactions() as tx:
            record = await sessions.revoke(store=tx.sessions, presented=presented, now=now)
            if record is not None:
                await tx.revocation_log.end_family(record.family_id, at=now)
                tx.audit_as(
                    actor=record.person_id,
                    action="session.sign_out",
                    resource=f"sessions/{record.family_id}",
                )
            await tx.commit()
        if record is not None:
            self._revocations.apply(Revocation(at=now, family_id=record.family_id))

    async def change_password(
        self,
        *,
        person_id: str,
        credentials: CallerCredentials,
        current_password: str,
        new_password: str,
        client: Client,
    ) -> Session:
        """Replaces a signed-in person's password (the directory checks the current one). Every
        session of the person ends, this one included; the answer is a new session.

        Wrong current passwords count like wrong sign-ins (per person and address, under the
        same limits), so a stolen access token cannot be used to guess the password and keep
        the account."""
        account = f"person:{person_id}"
        now = self._clock()
        attempt = await self._admit(account, client=client, now=now)
        try:
            async with self._checks.check_slot():
                person = await self._directory.change_password(
                    credentials=credentials,
                    current_password=current_password,
                    new_password=new_password,
                )
        except BaseException as exc:
            async with self._transactions() as tx:
                if isinstance(exc, WrongPasswordError):
                    tx.audit_as(
                        actor=person_id,
                        action="person.password.change_failed",
                        resource=f"people/{person_id}",
                        after={"address": client.ip},
                    )
                else:  # not a guess: the advance failure goes
                    await tx.sessions.forget_failure(attempt.reservation)
                await tx.commit()
            raise
        async with self._transactions() as tx:
            await tx.sessions.clear_failures(account, address=client.key)
            await tx.revocation_log.end_sessions_below(person_id, person.session_version, at=now)
            token, record = sessions.new_refresh_token(
                person_id=person_id,
                now=now,
                ttl=self._refresh_ttl,
                session_version=person.session_version,
            )
            await tx.sessions.add_refresh_token(record)
            tx.audit_as(
                actor=person_id,
                action="session.sign_in",
                resource=f"sessions/{record.family_id}",
                after={"address": client.ip},
            )
            await tx.commit()
        self._revocations.apply(
            Revocation(at=now, person_id=person_id, min_version=person.session_version)
        )
        return self._session(person, token, record)

    def _session(self, person: AccountT, refresh: str, record: sessions.RefreshToken) -> Session:
        return Session(
            access_token=self._tokens.issue(
                person,
                session_version=record.session_version,
                family_id=record.family_id,
                must_change_password=person.password_must_change,
            ),
            expires_in=self._tokens.ttl,
            refresh_token=refresh,
            refresh_expires_in=int(self._refresh_ttl.total_seconds()),
            password_must_change=person.password_must_change,
        )
