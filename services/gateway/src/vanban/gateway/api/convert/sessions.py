"""Sessions between the token endpoint and the sign-in use cases."""

from __future__ import annotations

from vanban.gateway.api.schemas.sessions import TokenOut
from vanban.gateway.domain.sign_in import Session


def token_out(session: Session) -> TokenOut:
    return TokenOut(
        access_token=session.access_token,
        expires_in=session.expires_in,
        refresh_token=session.refresh_token,
        refresh_expires_in=session.refresh_expires_in,
        password_must_change=session.password_must_change,
    )
