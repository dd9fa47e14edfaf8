from __future__ import annotations

from pydantic import PositiveFloat, PositiveInt, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings


class NotifySettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_NOTIFY_", extra="ignore", populate_by_name=True
    )

    # Deliveries of one event before it is dead-lettered. Retries wait 1, 2, 4 ... 30 s, so ten
    # deliveries ride out a directory restart of about two minutes.
    consumer_max_deliver: int = 10
    # How long the agency's people (roles, units, clearances) are kept between directory calls.
    people_cache_seconds: float = 5.0

    # E-mail through the agency's SMTP relay; none is sent while no host is set.
    smtp_host: str = ""
    smtp_port: PositiveInt = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    # STARTTLS on the plain port (587, the default), or TLS from the start (465).
    smtp_starttls: bool = True
    smtp_implicit_tls: bool = False
    # A private CA's certificates (PEM file) the relay's certificate is checked against.
    smtp_ca_file: str = ""
    smtp_sender: str = "Vanban <no-reply@localhost>"
    smtp_timeout_seconds: PositiveFloat = 30.0
    # Links in e-mails: this base, then the notice's resource (e.g. incoming-documents/<id>).
    link_base: str = "http://localhost:8000/v1"
    # Attempts of one e-mail before it is given up on (a 5xx refusal gives up at once); the
    # first retry after this long, doubling up to an hour.
    email_max_attempts: PositiveInt = 8
    email_retry_first_seconds: PositiveFloat = 30.0
    email_poll_seconds: PositiveFloat = 1.0

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    @model_validator(mode="after")
    def _credentials_only_over_tls(self) -> NotifySettings:
        if self.smtp_username and not (self.smtp_starttls or self.smtp_implicit_tls):
            raise ValueError(
                "SMTP credentials go only over TLS: set VANBAN_NOTIFY_SMTP_STARTTLS or "
                "VANBAN_NOTIFY_SMTP_IMPLICIT_TLS"
            )
        return self

    # Webhooks (docs/webhooks.md). Deliveries go to public https addresses only; development
    # may allow http and loopback/private addresses (never in production).
    webhook_allow_http: bool = False
    webhook_allow_private: bool = False
    webhooks_max: PositiveInt = 20
    # One attempt's whole time; the first retry after a failure, doubling up to the longest;
    # disabled after failing for a day.
    webhook_timeout_seconds: PositiveFloat = 10.0
    webhook_retry_first_seconds: PositiveFloat = 10.0
    webhook_retry_longest_seconds: PositiveFloat = 3600.0
    webhook_give_up_after_seconds: PositiveFloat = 86400.0
    # Endpoints drained at once by one replica (each one at a time, in order).
    webhook_max_endpoints_at_once: PositiveInt = 20
    webhook_poll_seconds: PositiveFloat = 0.5

    @field_validator("peers")
    @classmethod
    def _directory_known(cls, value: dict[str, str]) -> dict[str, str]:
        # Every notice needs its recipients from the directory: fail at start, not per event.
        if "directory" not in value:
            raise ValueError("VANBAN_PEERS must give the address of the directory service")
        return value

    @field_validator("consumer_max_deliver")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value
