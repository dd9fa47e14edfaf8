"""Bodies of the token endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    # The password was set by an administrator: until it is changed (POST /v1/me/password),
    # these tokens open nothing else but /v1/me and sign-out.
    password_must_change: bool = False
