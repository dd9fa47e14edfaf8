"""Sends the queued e-mails through the agency's SMTP relay (STARTTLS, credentials): each
notice's at once, each person's digest as one message. A refusal for good (5xx) gives up at
once; anything else is tried again with back-off until the attempts run out. What was given up
on stays listed for the administrator, with the relay's words."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

import aiosmtplib
from opentelemetry import metrics

from vanban.notify.adapters.db.email import PENDING, QueuedEmail, SqlEmails, SqlPreferences
from vanban.notify.domain.email import EmailMode, compose
from vanban.platform.db import UnitOfWork

logger = logging.getLogger(__name__)

# Headers folded at the line limit, not at 78: CPython folds a long Vietnamese subject into
# several encoded words and drops the space between them (the subject is kept short enough).
WIRE = SMTP.clone(max_line_length=998)
PENDING_EVERY = 30.0
# Deliberately plain: one @, no spaces or control characters, at most 320 characters.
ADDRESS = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,255}$")


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    username: str
    password: str
    # STARTTLS on a plain connection (587), or TLS from the start (465).
    starttls: bool
    implicit_tls: bool
    sender: str
    timeout: float
    # A private CA's certificates (PEM) to trust the relay by; empty: the system's.
    ca_file: str = ""

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)


class Permanent(Exception):
    """The relay refused the message for good (5xx), or it cannot be made at all."""


class EmailSender:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        relay: SmtpRelay,
        link_base: str,
        max_attempts: int,
        retry_first: timedelta,
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 50,
    ) -> None:
        self._uow = uow_factory
        self._relay = relay
        self._link_base = link_base
        self._max_attempts = max_attempts
        self._retry_first = retry_first
        self._poll = poll_seconds
        self._lease = lease
        self._batch = batch
        meter = metrics.get_meter("vanban.notify")
        self._messages = meter.create_counter(
            "vanban.email.messages", description="E-mails of notices by outcome"
        )
        # How many wait (due or not), counted every PENDING_EVERY seconds: a relay that is down
        # shows as this growing while no message goes.
        self._pending = 0
        self._counted_at = 0.0
        meter.create_observable_gauge(
            "vanban.email.pending",
            callbacks=[lambda _: [metrics.Observation(self._pending)]],
            description="E-mails of notices waiting to go",
        )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                busy = await self.send_due()
            except Exception:
                logger.exception("e-mail round failed")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._poll)

    async def send_due(self) -> bool:
        """One round: claims what is due and sends it; whether there was anything."""
        if time.monotonic() - self._counted_at >= PENDING_EVERY:
            async with self._uow() as uow:
                self._pending = await SqlEmails(uow.session).count(PENDING)
            self._counted_at = time.monotonic()
        token = str(uuid.uuid4())
        async with self._uow() as uow:
            claimed = await SqlEmails(uow.session).claim_due(
                now=datetime.now(UTC), lease=self._lease, limit=self._batch, token=token
            )
            await uow.commit()
        if not claimed:
            return False
        for group in _messages(claimed):
            # Held still (renewed for this message), or another replica has it now.
            async with self._uow() as uow:
                held = await SqlEmails(uow.session).renew(
                    [e.id for e in group], token=token, now=datetime.now(UTC), lease=self._lease
                )
                await uow.commit()
            if not held:
                continue
            group = await self._still_wanted(group, token)
            if group:
                await self._deliver(group, token)
        return True

    async def _still_wanted(self, group: list[QueuedEmail], token: str) -> list[QueuedEmail]:
        """The group less what its person turned off since it was queued (those are cancelled,
        not sent)."""
        async with self._uow() as uow:
            chosen = await SqlPreferences(uow.session).get(group[0].person_id)
            unwanted = [e for e in group if chosen.mode(e.notification.kind) is EmailMode.OFF]
            if unwanted:
                await SqlEmails(uow.session).cancel(
                    [e.id for e in unwanted], token=token, reason="turned off by the person"
                )
                await uow.commit()
        return [e for e in group if e not in unwanted]

    async def _deliver(self, group: list[QueuedEmail], token: str) -> None:
        first = group[0]
        error, permanent = "", False
        try:
            message = self._message(group)
        except Exception as exc:
            message, error, permanent = None, f"the e-mail cannot be made: {exc}", True
        if message is not None:
            try:
                await self._send(message)
            except Permanent as exc:
                error, permanent = str(exc), True
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        now = datetime.now(UTC)
        attempts = first.attempts + 1
        give_up = bool(error) and (permanent or attempts >= self._max_attempts)
        retry_at = now + min(self._retry_first * 2 ** (attempts - 1), timedelta(hours=1))
        async with self._uow() as uow:
            await SqlEmails(uow.session).settle(
                [e.id for e in group],
                token=token,
                sent_at=None if error else now,
                error=error,
                retry_at=retry_at,
                give_up=give_up,
            )
            await uow.commit()
        outcome = "sent" if not error else "failed" if give_up else "retry"
        self._messages.add(1, {"outcome": outcome})
        if give_up:
            logger.warning(
                "e-mail given up",
                extra={
                    "person_id": first.person_id,
                    "email_ids": [e.id for e in group],
                    "error": error,
                },
            )

    def _message(self, group: list[QueuedEmail]) -> EmailMessage:
        first = group[0]
        if not first.address.isascii() or not ADDRESS.match(first.address):
            raise Permanent(f"the directory's address {first.address!r} is not an e-mail address")
        email = compose(
            [e.notification for e in group],
            name=one_line(first.name),
            link_base=self._link_base,
            digest=first.mode == "digest",
        )
        message = EmailMessage()
        message["From"] = self._relay.sender
        message["To"] = formataddr((one_line(first.name), first.address))
        message["Subject"] = one_line(email.subject)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain="vanban.invalid")
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    async def _send(self, message: EmailMessage) -> None:
        relay = self._relay
        try:
            await aiosmtplib.send(
                message.as_bytes(policy=WIRE),
                sender=parseaddr(relay.sender)[1],
                recipients=[parseaddr(str(message["To"]))[1]],
                hostname=relay.host,
                port=relay.port,
                username=relay.username or None,
                password=relay.password or None,
                start_tls=relay.starttls and not relay.implicit_tls,
                use_tls=relay.implicit_tls,
                tls_context=relay.tls_context() if relay.starttls or relay.implicit_tls else None,
                timeout=relay.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            words = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if codes and all(code >= 500 for code in codes):
                raise Permanent(f"the relay refused the address: {words}") from exc
            raise
        except aiosmtplib.SMTPDataError as exc:
            # The message itself refused for good; a refusal of the platform as a whole (its
            # sign-in, STARTTLS, its sender) is the relay's or the settings', tried again.
            if exc.code >= 500:
                raise Permanent(f"the relay refused the message: {exc.code} {exc.message}") from exc
            raise


def one_line(value: str) -> str:
    """A header value on one line: any run of whitespace or control characters one space."""
    cleaned = "".join(" " if not char.isprintable() else char for char in value)
    return " ".join(cleaned.split())


def _messages(claimed: list[QueuedEmail]) -> list[list[QueuedEmail]]:
    """One message per notice sent at once; one per person for their digest."""
    digests: dict[tuple[str, str], list[QueuedEmail]] = defaultdict(list)
    single: list[list[QueuedEmail]] = []
    for email in claimed:
        if email.mode == "digest":
            digests[(email.person_id, email.address)].append(email)
        else:
            single.append([email])
    return single + list(digests.values())
