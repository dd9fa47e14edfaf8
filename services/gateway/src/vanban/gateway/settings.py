from __future__ import annotations

from typing import ClassVar

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings

MIB = 1024 * 1024


class GatewaySettings(ServiceSettings, DatabaseSettingsMixin):
    service_name: ClassVar[str] = "gateway"
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_GATEWAY_", extra="ignore", populate_by_name=True
    )

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Largest file accepted for one document (bytes).
    max_upload_bytes: int = 50 * MIB
    access_token_ttl_seconds: int = 900
    # A sign-in lasts a working day unless it is signed out; each refresh rotates the token.
    refresh_token_ttl_seconds: int = 12 * 3600
    # Wrong passwords that lock an account, and the window they are counted in.
    lockout_max_failures: int = 10
    lockout_window_seconds: int = 15 * 60
    # How long the delegations a person holds are cached: a new or revoked delegation takes
    # effect within this many seconds.
    delegation_cache_seconds: float = 30.0
    # OIDC bearer tokens from the agency's identity provider: all three, or none.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    # A claim holding the local user name, as a last way to find the person (e.g.
    # preferred_username); unset, people are found by sub or verified e-mail only.
    oidc_username_claim: str | None = None
    # How long the provider's key set is kept: a key the provider removes stops working
    # within this many seconds.
    oidc_jwks_refresh_seconds: float = 300.0
    # Clients (`azp`/`client_id`) whose access tokens are accepted; empty accepts any client
    # the provider issued a token for this audience to.
    oidc_allowed_clients: frozenset[str] = frozenset()
    # Accept only RFC 9068 access tokens (header typ at+jwt).
    oidc_require_at_jwt: bool = False
    # How often each replica reads the shared log of ended sessions: a deactivated person's
    # (or a signed-out session's) access token stops working within about this many seconds.
    revocation_poll_seconds: float = 1.0
    consumer_max_deliver: int = 10

    @model_validator(mode="after")
    def _oidc_complete(self) -> GatewaySettings:
        given = [self.oidc_issuer, self.oidc_audience, self.oidc_jwks_url]
        if any(given) and not all(given):
            raise ValueError("OIDC needs oidc_issuer, oidc_audience and oidc_jwks_url together")
        return self

    # Seconds allowed to each call to a service behind the gateway.
    upstream_timeout_seconds: float = 30.0
    # Seconds allowed to stream one file out of the archive to the client.
    download_timeout_seconds: float = 600.0
    # The agency's civil calendar, for "not later than today" checks.
    timezone: str = "Asia/Ho_Chi_Minh"
