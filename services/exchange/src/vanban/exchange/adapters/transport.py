"""The one face of a transport between agencies (ADR 0012): what the exchange service needs
from an axis, whatever carries the bytes.

The NATS JetStream axis (`vanban.exchange.adapters.axis`) is the built one; the national axis
(VDXP) and provincial platforms (LGSP), which speak HTTP with their own signing, fit behind the
same face: `send` hands one package to the transport for one recipient, `fetch` takes what has
arrived for this agency, and each arrival is settled (`ack` once it is committed, `nak` to have
it again later).

A package may carry the W3C trace context of the attempt that sends it (`send(trace=...)`),
and an arrival the sender's (`Arrival.trace_context`, None unless well formed): one document's
trace is followed across agencies (ADR 0012 §10).

Delivery is at least once: `send` may be repeated with the same `message_id` (the transport
drops repeats it still remembers), and an arrival may come again after a crash before its
`ack`. The exchange service de-duplicates arrivals itself, by message id and by DocumentId.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vanban.exchange.adapters.trace_context import TraceContext


class TransportError(Exception):
    """The transport could not take the package now (axis down, link to a province down,
    recipient's inbox not there yet): not delivered, to be retried later."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SendReceipt:
    """The transport's acknowledgement that it holds the package for the recipient."""

    # Where it is kept, e.g. "INBOX_000_00_00_H98#17" (stream and sequence on the axis).
    reference: str
    # The transport already had a package of this message id (a repeat after a retry).
    duplicate: bool


class Arrival(Protocol):
    """A package that arrived for this agency, not settled yet."""

    @property
    def data(self) -> bytes: ...

    @property
    def message_id(self) -> str:
        """The sender's id of this transmission (the same on every redelivery)."""
        ...

    @property
    def trace_context(self) -> TraceContext | None:
        """The sender's trace context, if it sent a well-formed one (anything else is None)."""
        ...

    @property
    def delivery_count(self) -> int:
        """1 the first time, more when it comes again (not acked in time, or nak'ed)."""
        ...

    async def ack(self) -> None:
        """Settled: it is committed here and must not come again. Confirmed by the transport
        before this returns."""
        ...

    async def nak(self, delay: float) -> None:
        """Not taken now: to come again after `delay` seconds."""
        ...


class Transport(Protocol):
    async def start(self) -> None:
        """Connects; retried by the transport itself when the axis is down at start."""
        ...

    async def close(self) -> None: ...

    async def send(
        self,
        recipient: str,
        data: bytes,
        *,
        message_id: str,
        trace: TraceContext | None = None,
    ) -> SendReceipt:
        """Hands `data` to the transport for the agency `recipient` (its organ id), with the
        trace context `trace` when given (the same `message_id` is a repeat, whatever its trace
        context); raises `TransportError` when it could not."""
        ...

    async def fetch(self, *, batch: int, wait: float) -> list[Arrival]:
        """Up to `batch` arrivals, waiting at most `wait` seconds for the first; an empty
        list when none came. Raises `TransportError` when the axis cannot be reached."""
        ...
