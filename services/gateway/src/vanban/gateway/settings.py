from __future__ import annotations

import ipaddress

from pydantic import (
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings

MIB = 1024 * 1024


class GatewaySettings(ServiceSettings, DatabaseSettingsMixin):
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
    # Host header values the gateway answers (against DNS rebinding): exact names, or
    # "*.example.gov.vn" for any name under one; set it to the public name behind a proxy.
    trusted_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
    # Reverse proxies (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For names the
    # client; from any other peer the header is ignored and the peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    # Sign-in limits (docs/adr/0008-strangers-at-the-gateway.md). All failures are counted in one
    # window. Wrong passwords for one account from one client address that lock that address
    # out of the account:
    lockout_max_failures: PositiveInt = 10
    lockout_window_seconds: PositiveInt = 15 * 60
    # Failures of one account from all addresses, and of one address over all accounts, after
    # which addresses the person has not signed in from lately are refused until they age out.
    sign_in_account_max_failures: PositiveInt = 50
    sign_in_address_max_failures: PositiveInt = 30
    # How long a successful sign-in makes its address known for the account.
    sign_in_known_address_days: PositiveInt = 30
    # How long the audit log keeps failed sign-ins (and the limits they reached): anyone can
    # write them, under any name, so they age out like the counts, only much later.
    sign_in_failure_audit_days: PositiveInt = 90
    # Password checks in flight (each costs the directory an argon2 hash and a database
    # connection on both sides): in all, and from one address; more from one address wait, up
    # to a few; nobody waits longer than the queue time (then 429 or 503 with Retry-After).
    sign_in_max_in_flight: PositiveInt = 8
    sign_in_max_in_flight_per_address: PositiveInt = 1
    sign_in_max_waiting_per_address: NonNegativeInt = 8
    sign_in_queue_seconds: PositiveFloat = 2.0
    # Live notification streams (GET /v1/notifications/stream) one gateway process holds, in all
    # and per person (tabs and devices); each ends when its access token does, or after the
    # longest a stream may last, whichever comes first (the client reconnects with
    # Last-Event-ID and loses nothing).
    notification_streams_max: PositiveInt = 10_000
    notification_streams_per_person: PositiveInt = 5
    notification_stream_max_seconds: PositiveInt = 3600
    # How often an open stream checks that its session still stands (and sends a keep-alive).
    notification_stream_check_seconds: PositiveFloat = 15.0
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

    @field_validator("trusted_hosts")
    @classmethod
    def _hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(host.strip().lower() for host in hosts if host.strip())
        if not cleaned:
            raise ValueError("at least one trusted host is needed")
        if any(host == "*" or "*" in host.removeprefix("*.") for host in cleaned):
            raise ValueError('a trusted host is a name, or "*.domain" for the names under one')
        return cleaned

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, proxies: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in proxies:
            ipaddress.ip_network(proxy.strip(), strict=False)  # ValueError names the entry
        return tuple(proxy.strip() for proxy in proxies)

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
    # Records work on a whole dossier in one call (a handover locks every file, a fixity check
    # re-reads them, a disposition deletes them; the audit walk reads the whole chain).
    long_call_timeout_seconds: PositiveFloat = 600.0
    # The agency's civil calendar, for "not later than today" checks.
    timezone: str = "Asia/Ho_Chi_Minh"
