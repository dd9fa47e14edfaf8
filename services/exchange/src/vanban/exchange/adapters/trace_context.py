"""The W3C trace context a package carries between agencies (ADR 0012 §10).

A transmission keeps the `traceparent` (and `tracestate`, if any) of the work that made its
package; every attempt to send it runs in a span under that context and hands the transport
that span's context, which the axis carries in the message's `traceparent`/`tracestate`
headers. The receiver takes a sender's context only if it is well formed (`accepted`): another
agency is not trusted to send anything else, and a malformed or oversized value is ignored,
never an error. Only these two fields cross: never baggage, in either direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, TraceFlags, TraceState

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
# A traceparent of version 00 is exactly this long: 00-<32 hex>-<16 hex>-<2 hex>.
TRACEPARENT_LENGTH = 55
# The tracestate kept and carried: what W3C asks every carrier to pass on (512 characters) and
# its 32 list members at most; a longer one is dropped whole (cutting it could cut a member).
TRACESTATE_MAX = 512
TRACESTATE_MEMBERS_MAX = 32

# Version 00 only, lower-case hex only (W3C Trace Context, §3.2.2).
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_KEY_CHARS = r"[a-z0-9_\-*/]"
_TRACESTATE_MEMBER = re.compile(
    rf"([a-z]{_KEY_CHARS}{{0,255}}|[a-z0-9]{_KEY_CHARS}{{0,240}}@[a-z]{_KEY_CHARS}{{0,13}})"
    r"=([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e])"
)


@dataclass(frozen=True, slots=True)
class TraceContext:
    """A well-formed W3C trace context: made by `accepted` or `current` only."""

    traceparent: str
    tracestate: str | None = None

    def headers(self) -> dict[str, str]:
        """The message headers that carry it."""
        headers = {TRACEPARENT: self.traceparent}
        if self.tracestate:
            headers[TRACESTATE] = self.tracestate
        return headers

    @property
    def trace_id(self) -> str:
        return self.traceparent[3:35]

    @property
    def sampled(self) -> bool:
        return bool(int(self.traceparent[53:55], 16) & TraceFlags.SAMPLED)

    def span_context(self) -> SpanContext:
        """As a remote span context: the flags other than `sampled` are dropped (version 00
        defines no other)."""
        _version, trace_id, span_id, _flags = self.traceparent.split("-")
        return SpanContext(
            trace_id=int(trace_id, 16),
            span_id=int(span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED if self.sampled else TraceFlags.DEFAULT),
            trace_state=TraceState(_members(self.tracestate) or []),
        )


def accepted(traceparent: object, tracestate: object = None) -> TraceContext | None:
    """The trace context of these header values, or None unless `traceparent` is a well-formed
    W3C traceparent of version 00 (32 and 16 lower-case hex digits, neither all zeros, two of
    flags). A `tracestate` that is not well formed, longer than 512 characters or of more than
    32 members is dropped (the traceparent is kept)."""
    if not isinstance(traceparent, str) or len(traceparent) != TRACEPARENT_LENGTH:
        return None
    match = _TRACEPARENT.fullmatch(traceparent)
    if match is None:
        return None
    trace_id, span_id, _flags = match.groups()
    if trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    members = _members(tracestate)
    state = ",".join(f"{key}={value}" for key, value in members) if members else None
    return TraceContext(traceparent=traceparent, tracestate=state)


def _members(tracestate: object) -> list[tuple[str, str]] | None:
    """The list members of a well-formed, bounded tracestate; None for anything else."""
    if not isinstance(tracestate, str) or not tracestate or len(tracestate) > TRACESTATE_MAX:
        return None
    members: list[tuple[str, str]] = []
    for member in tracestate.split(","):
        member = member.strip(" \t")
        if not member:
            continue  # empty members are allowed, and carried as nothing
        match = _TRACESTATE_MEMBER.fullmatch(member)
        if match is None:
            return None
        members.append((match.group(1), match.group(2)))
    keys = {key for key, _value in members}
    if not members or len(members) > TRACESTATE_MEMBERS_MAX or len(keys) != len(members):
        return None
    return members


def current() -> TraceContext | None:
    """The context of the span now current, as it is kept and carried; None outside a span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    traceparent = (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-"
        f"{int(span_context.trace_flags) & TraceFlags.SAMPLED:02x}"
    )
    return accepted(traceparent, span_context.trace_state.to_header())


def as_parent(context: TraceContext | None) -> Context:
    """A context whose span is `context` (a new trace's when None): what an attempt to send a
    transmission starts its span in, rather than whatever runs the delivery pass."""
    if context is None:
        return Context()
    return trace.set_span_in_context(NonRecordingSpan(context.span_context()), Context())


def from_sender(context: TraceContext | None) -> tuple[Context, list[Link]]:
    """Where a received package's span starts: under the sender's span when the sender sampled
    it (one trace per document across agencies); else a trace of our own, linked to the
    sender's, so that a sender can at most make the receiver sample, never stop it."""
    if context is None:
        return Context(), []
    if context.sampled:
        return as_parent(context), []
    return Context(), [Link(context.span_context())]


def link_to(context: TraceContext | None) -> list[Link]:
    """A link to `context`, when there is one."""
    return [Link(context.span_context())] if context is not None else []
