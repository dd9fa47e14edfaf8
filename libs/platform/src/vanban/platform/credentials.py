"""The form of sign-in credentials. The gateway checks it before it counts an attempt, the
directory before it hashes: one rule, so both refuse the same input the same way (ADR 0006).
Pure: domains import it."""

from __future__ import annotations

from vanban.platform.errors import invalid_fields

# argon2 hashes any length, but an unbounded input is free work for an attacker.
PASSWORD_MAX = 1024
# Longer than any user name the directory gives out; a sign-in name is looked up, not stored.
SIGN_IN_NAME_MAX = 128


def check_credentials_format(username: str, password: str | None) -> None:
    """Refuses (INVALID_CREDENTIALS_FORMAT) a blank or unprintable user name, or an empty or
    overlong password (not checked when None). Says nothing about any account."""
    problems: dict[str, str] = {}
    if not username.strip():
        problems["username"] = "is required"
    elif len(username) > SIGN_IN_NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in username):
        problems["username"] = "is not a user name"
    if password is not None:
        if not password:
            problems["password"] = "is required"
        elif len(password) > PASSWORD_MAX:
            problems["password"] = f"must be at most {PASSWORD_MAX} characters"
    if problems:
        raise invalid_fields(problems, reason="INVALID_CREDENTIALS_FORMAT")
