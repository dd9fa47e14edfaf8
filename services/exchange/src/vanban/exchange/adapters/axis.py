"""The NATS JetStream axis behind the `Transport` face (DESIGN.md, "The national exchange axis").

The agency connects as the one user of its own account on the axis. That account can publish to
any agency's inbox subject (and gets the inbox stream's PubAck back), pull from its own inbox's
durable consumer and settle what it pulled there, and nothing else: no JetStream API of its own,
not even the stream or consumer info nats-py's `pull_subscribe` asks for first. So arrivals are
pulled with raw requests to the consumer's `MSG.NEXT` subject.

Limits: a package (with its headers) is at most the inbox's `max_msg_size` (8 MiB on the local
axis); a larger one is refused. A fetch holds up to `batch` packages in memory at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, field

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError, NoStreamResponseError

from vanban.exchange.adapters.trace_context import TRACEPARENT, TRACESTATE, TraceContext, accepted
from vanban.exchange.adapters.transport import Arrival, SendReceipt, TransportError
from vanban.platform.axis_names import inbox_pull_subject, inbox_subject
from vanban.platform.events.nats import redact

logger = logging.getLogger(__name__)

# TransportError reasons.
# Not connected to the axis, or it did not answer in time: retry later.
AXIS_UNAVAILABLE = "AXIS_UNAVAILABLE"
# Nobody answers on the inbox's subject: the agency has no inbox on the axis (unknown, or not
# provisioned yet), or its inbox is on a province's axis whose leaf link is down. Retry later.
NO_INBOX = "NO_INBOX"
# The inbox's stream refused the package (too large); the message is the axis's own.
REFUSED = "REFUSED"
# The recipient's inbox holds as much as it may until the recipient takes some: retry later.
INBOX_FULL = "INBOX_FULL"
# JetStream's error code for a stream at its byte limit with discard new.
_STREAM_FULL = 10077

MSG_ID_HEADER = "Nats-Msg-Id"
# The longest message id an arrival carries as it was sent (the receiver's record holds 200).
MESSAGE_ID_MAX = 120
# How long a send waits for the inbox's PubAck, and an ack or nak for its confirmation.
SEND_TIMEOUT = 5.0
SETTLE_TIMEOUT = 5.0
# How long `start` waits for the first connection before it lets the caller go on.
START_WAIT = 5.0
# Added to a pull's own expiry before the axis is taken as gone: its answer is on the way.
_PULL_MARGIN = 1.0
# Status headers that end a pull: no messages (404), expired (408), and the consumer's
# conditions (409: deleted, too many waiting pulls, leadership change).
_PULL_DONE = {"404", "408", "409"}
_NO_RESPONDERS = "503"


@dataclass(frozen=True, slots=True)
class AxisArrival:
    """A package pulled from this agency's inbox, settled on the axis by `ack` or `nak`."""

    data: bytes
    # The sender's Nats-Msg-Id; the inbox reference when a sender set none (stable too).
    message_id: str
    delivery_count: int
    # The sender's `traceparent`/`tracestate` headers, when well formed (else None).
    trace_context: TraceContext | None
    # Where the axis keeps it, "INBOX_<token>#<stream sequence>", as in the sender's receipt.
    reference: str
    _client: Client = field(repr=False)
    _ack_subject: str = field(repr=False)
    _timeout: float = field(repr=False)

    async def ack(self) -> None:
        await self._settle(b"+ACK")

    async def nak(self, delay: float) -> None:
        payload = b"-NAK"
        if delay > 0:
            payload += b" " + json.dumps({"delay": int(delay * 1_000_000_000)}).encode()
        await self._settle(payload)

    async def _settle(self, payload: bytes) -> None:
        """Sends an ack or nak as a request, so that it returns only once the axis took it."""
        try:
            await self._client.request(self._ack_subject, payload, timeout=self._timeout)
        except NatsError as exc:
            raise TransportError(
                f"the axis did not confirm settling {self.reference}: {exc!r}",
                reason=AXIS_UNAVAILABLE,
            ) from exc


class NatsAxis:
    """The agency `agency_code`'s transport on a NATS JetStream axis reached at `url`.

    `url` carries the agency's own user and password (`nats://user:password@host:port`).
    The connection is retried forever, quietly: one warning when the axis goes away (and one per
    kind of error while it stays away), one line when it is back. Meanwhile `send` and `fetch`
    raise `TransportError(reason=AXIS_UNAVAILABLE)` at once instead of waiting.
    """

    def __init__(
        self,
        url: str,
        agency_code: str,
        *,
        send_timeout: float = SEND_TIMEOUT,
        settle_timeout: float = SETTLE_TIMEOUT,
        start_wait: float = START_WAIT,
    ) -> None:
        self.agency_code = agency_code
        self._url = url
        self._pull_subject = inbox_pull_subject(agency_code)
        self._send_timeout = send_timeout
        self._settle_timeout = settle_timeout
        self._start_wait = start_wait
        self._client = Client()
        self._js = self._client.jetstream(timeout=send_timeout)
        self._connecting: asyncio.Task[None] | None = None
        self._errors_seen: set[str] = set()
        self._closing = False

    async def start(self) -> None:
        """Connects, waiting up to `start_wait` seconds; if the axis is not there by then, keeps
        trying in the background so that the service starts without it."""
        if self._connecting is not None:
            return
        self._connecting = asyncio.create_task(self._connect())
        done, _ = await asyncio.wait({self._connecting}, timeout=self._start_wait)
        if done:
            self._connecting.result()
        else:
            logger.warning("axis not reachable yet; still trying", extra=self._log_extra())

    async def close(self) -> None:
        self._closing = True
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        if not self._client.is_closed:
            await self._client.close()

    async def send(
        self,
        recipient: str,
        data: bytes,
        *,
        message_id: str,
        trace: TraceContext | None = None,
    ) -> SendReceipt:
        """Publishes to `recipient`'s inbox with `message_id` as its Nats-Msg-Id (and `trace`
        as its `traceparent`/`tracestate` headers), and returns once the inbox's stream holds it
        (a repeat within its duplicate window is acknowledged as a duplicate, not stored twice).
        Raises `ValueError` for an empty `message_id`."""
        if not message_id:
            raise ValueError("a package needs a message id")
        subject = _inbox_of(recipient)
        self._require_connection()
        headers = trace.headers() if trace is not None else {}
        headers[MSG_ID_HEADER] = message_id
        try:
            ack = await self._js.publish(subject, data, timeout=self._send_timeout, headers=headers)
        except NoStreamResponseError as exc:
            raise TransportError(
                f"no inbox of {recipient} answers on the axis", reason=NO_INBOX
            ) from exc
        except APIError as exc:
            raise _refusal(recipient, exc) from exc
        except MaxPayloadError as exc:
            raise TransportError(
                f"the package for {recipient} ({len(data)} bytes) is larger than the axis takes",
                reason=REFUSED,
            ) from exc
        except NatsError as exc:
            raise TransportError(
                f"the axis did not acknowledge the package for {recipient}: {exc!r}",
                reason=AXIS_UNAVAILABLE,
            ) from exc
        return SendReceipt(reference=f"{ack.stream}#{ack.seq}", duplicate=bool(ack.duplicate))

    async def fetch(self, *, batch: int, wait: float) -> list[Arrival]:
        """Up to `batch` arrivals from this agency's inbox, waiting at most `wait` seconds.

        First a pull of one that waits up to `wait`, then (when one came) a pull of the rest
        that returns at once with what is there; a `wait` of 0 is that second pull alone.
        Each pull ends with the axis's own answer, so no package is handed to a pull nobody
        reads any more (it would come again only after the consumer's ack wait).
        """
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self._require_connection()
        if wait <= 0:
            return await self._pull(batch, expires=None)
        first = await self._pull(1, expires=wait)
        if not first or batch == 1:
            return first
        return first + await self._pull(batch - 1, expires=None)

    async def _pull(self, batch: int, *, expires: float | None) -> list[Arrival]:
        """One pull request for up to `batch` arrivals, waiting up to `expires` seconds for
        them (None: only what is there now); returns once the axis says the pull is over."""
        request: dict[str, object] = {"batch": batch}
        if expires is None:
            request["no_wait"] = True
        else:
            request["expires"] = int(expires * 1_000_000_000)
        inbox = self._client.new_inbox()
        subscription = await self._client.subscribe(inbox)
        arrivals: list[Arrival] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (expires or 0.0) + _PULL_MARGIN
        try:
            await self._client.publish(
                self._pull_subject, json.dumps(request).encode(), reply=inbox
            )
            while len(arrivals) < batch:
                msg = await subscription.next_msg(timeout=max(deadline - loop.time(), 0.001))
                status = (msg.headers or {}).get("Status")
                if status is None:
                    arrivals.append(self._arrival(msg))
                elif self._pull_over(status, msg):
                    break
        except NatsTimeoutError as exc:
            if not arrivals:
                raise TransportError(
                    "the axis did not answer a pull in time", reason=AXIS_UNAVAILABLE
                ) from exc
        except NatsError as exc:
            raise TransportError(
                f"pull from the axis failed: {exc!r}", reason=AXIS_UNAVAILABLE
            ) from exc
        finally:
            await _unsubscribe_quietly(subscription)
        return arrivals

    def _pull_over(self, status: str, msg: Msg) -> bool:
        """Whether a status message ends the pull; raises when no inbox answered it."""
        if status == _NO_RESPONDERS:
            raise TransportError(
                f"no inbox of {self.agency_code} answers on the axis", reason=NO_INBOX
            )
        if status == "409":
            description = (msg.headers or {}).get("Description", "")
            logger.warning(
                "the axis ended a pull", extra={**self._log_extra(), "description": description}
            )
        return status in _PULL_DONE

    def _arrival(self, msg: Msg) -> AxisArrival:
        # The ack subject carries the delivery count and the stream sequence (both the
        # `$JS.ACK.<stream>.<consumer>...` and the domain-prefixed form are parsed by nats-py).
        metadata = msg.metadata
        reference = f"{metadata.stream}#{metadata.sequence.stream}"
        headers = msg.headers or {}
        return AxisArrival(
            data=msg.data,
            message_id=_message_id(headers.get(MSG_ID_HEADER), reference),
            delivery_count=metadata.num_delivered,
            trace_context=_trace_context(headers),
            reference=reference,
            _client=self._client,
            _ack_subject=msg.reply,
            _timeout=self._settle_timeout,
        )

    def _require_connection(self) -> None:
        if not self._client.is_connected:
            raise TransportError("not connected to the axis", reason=AXIS_UNAVAILABLE)

    async def _connect(self) -> None:
        await self._client.connect(
            servers=[self._url],
            name=f"vanban-exchange {self.agency_code}",
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            connect_timeout=5,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
            error_cb=self._on_error,
        )
        self._errors_seen.clear()
        logger.info("connected to the axis", extra=self._log_extra())

    async def _on_disconnected(self) -> None:
        if self._closing:  # nats-py reports its own close as a disconnection too
            return
        logger.warning("disconnected from the axis; reconnecting", extra=self._log_extra())

    async def _on_reconnected(self) -> None:
        self._errors_seen.clear()
        logger.info("reconnected to the axis", extra=self._log_extra())

    async def _on_error(self, exc: Exception) -> None:
        """Each kind of error once until connected again: a refused reconnect every second
        while the axis is down says nothing new."""
        kind = type(exc).__name__
        if kind in self._errors_seen:
            return
        self._errors_seen.add(kind)
        logger.warning("axis connection error", extra={**self._log_extra(), "error": repr(exc)})

    def _log_extra(self) -> dict[str, str]:
        return {"agency_code": self.agency_code, "axis_url": redact(self._url)}


def _message_id(sent: str | None, reference: str) -> str:
    """The sender's message id as the receiver keeps it: at most MESSAGE_ID_MAX characters (a
    longer one is kept by its digest, so that a hostile header cannot overflow a record), the
    inbox reference when the sender set none (stable across redeliveries too)."""
    if not sent:
        return reference
    if len(sent) > MESSAGE_ID_MAX:
        return "sha256:" + hashlib.sha256(sent.encode()).hexdigest()
    return sent


def _trace_context(headers: dict[str, str]) -> TraceContext | None:
    """The sender's trace context, its header names in any case (as HTTP's are); None unless
    well formed (`accepted`)."""
    found = {name.lower(): value for name, value in headers.items()}
    return accepted(found.get(TRACEPARENT), found.get(TRACESTATE))


def _inbox_of(recipient: str) -> str:
    """The recipient's inbox subject; what is not an agency code has no inbox (and must not be
    made a subject: a wildcard would address every inbox)."""
    try:
        return inbox_subject(recipient)
    except ValueError as exc:
        raise TransportError(str(exc), reason=NO_INBOX) from exc


def _refusal(recipient: str, exc: APIError) -> TransportError:
    """A JetStream error answer: refused for good unless the axis says it is unavailable."""
    if exc.err_code == _STREAM_FULL:
        return TransportError(
            f"the inbox of {recipient} is full until it takes what waits there",
            reason=INBOX_FULL,
        )
    if exc.code == 503:
        return TransportError(
            f"the axis is unavailable for {recipient}: {exc.description}", reason=AXIS_UNAVAILABLE
        )
    return TransportError(
        f"the axis refused the package for {recipient}: {exc.description} (error {exc.err_code})",
        reason=REFUSED,
    )


async def _unsubscribe_quietly(subscription: Subscription) -> None:
    """Ends a pull's reply subscription; on a closed connection there is nothing to end."""
    try:
        await subscription.unsubscribe()
    except NatsError:
        pass
