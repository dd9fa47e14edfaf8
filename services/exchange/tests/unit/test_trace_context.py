"""The trace context a package carries between agencies (ADR 0012 §10): only a well-formed W3C
traceparent of another agency is taken, every attempt to send is a span under the context its
transmission was made in, and an arrival is taken under its sender's span."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from vanban.exchange.adapters import trace_context
from vanban.exchange.adapters.axis import _trace_context
from vanban.exchange.adapters.peers import GrpcPeers
from vanban.exchange.adapters.trace_context import TraceContext, accepted
from vanban.exchange.adapters.transport import SendReceipt, Transport, TransportError
from vanban.exchange.core import Options
from vanban.exchange.inbound import Inbound
from vanban.exchange.outbound import Outbound
from vanban.platform.db import UnitOfWorkFactory

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
VALID = f"00-{TRACE_ID}-{SPAN_ID}-01"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        # What the service's start does (vanban.platform.telemetry); only once per process.
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    try:
        yield exporter
    finally:
        processor.shutdown()


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


# -- what is accepted -----------------------------------------------------------------------


def test_a_well_formed_traceparent_is_taken_with_its_tracestate() -> None:
    taken = accepted(VALID, "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")
    assert taken == TraceContext(VALID, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
    assert taken.trace_id == TRACE_ID
    assert taken.sampled
    assert not accepted(f"00-{TRACE_ID}-{SPAN_ID}-00").sampled  # type: ignore[union-attr]
    assert taken.headers() == {
        "traceparent": VALID,
        "tracestate": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
    }
    assert accepted(VALID) == TraceContext(VALID, None)
    assert accepted(VALID).headers() == {"traceparent": VALID}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "hostile",
    [
        VALID + "0",  # too long
        VALID + "-extra",  # a future version's fields, on version 00
        VALID[:-1],  # too short
        "0" * 10_000,
        VALID.upper(),
        f"00-{TRACE_ID.upper()}-{SPAN_ID}-01",
        f"00-{TRACE_ID}-{SPAN_ID}-0A",
        f"01-{TRACE_ID}-{SPAN_ID}-01",  # another version
        f"ff-{TRACE_ID}-{SPAN_ID}-01",  # the forbidden version
        f"00-{'0' * 32}-{SPAN_ID}-01",  # no trace
        f"00-{TRACE_ID}-{'0' * 16}-01",  # no parent
        f"00-{TRACE_ID}-{SPAN_ID}-zz",
        f" 00-{TRACE_ID}-{SPAN_ID}-1",
        f"00_{TRACE_ID}_{SPAN_ID}_01",
        f"00-{TRACE_ID[:-1]}g-{SPAN_ID}-01",
        f"00-{TRACE_ID}-{SPAN_ID}-01\n",
        "00-٤bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # a non-ASCII digit
        "garbage",
        "",
        None,
        VALID.encode(),
        42,
    ],
)
def test_anything_but_a_well_formed_traceparent_is_ignored(hostile: object) -> None:
    assert accepted(hostile, "congo=t61rcWkgMzE") is None


@pytest.mark.parametrize(
    "hostile",
    [
        "a=" + "b" * 511,  # longer than the 512 characters carried
        ",".join(f"k{number}=v" for number in range(33)),  # more than 32 members
        "congo=1,congo=2",  # a key twice
        "Congo=1",  # upper case key
        "congo=a=b",
        "congo=",
        "congo",
        "congo=bad\tvalue",
        "congo=\u00e9",
        "=value",
        ",",
        "",
        b"congo=1",
    ],
)
def test_a_tracestate_not_well_formed_or_too_long_is_dropped_and_the_traceparent_kept(
    hostile: object,
) -> None:
    assert accepted(VALID, hostile) == TraceContext(VALID, None)


def test_a_tracestate_at_the_bounds_is_kept() -> None:
    longest = "a=" + "b" * 255 + ",c=" + "d" * 252
    assert len(longest) == 512
    assert accepted(VALID, longest) == TraceContext(VALID, longest)
    many = ",".join(f"k{number}=v" for number in range(32))
    assert accepted(VALID, many) == TraceContext(VALID, many)
    assert accepted(VALID, "tenant@system=x") == TraceContext(VALID, "tenant@system=x")


def test_header_names_are_read_in_any_case() -> None:
    assert _trace_context({"Traceparent": VALID, "TraceState": "congo=1"}) == TraceContext(
        VALID, "congo=1"
    )
    assert _trace_context({"Nats-Msg-Id": "x"}) is None
    assert _trace_context({"traceparent": "00-" + "0" * 32 + "-" + SPAN_ID + "-01"}) is None


# -- where a received package's span starts ------------------------------------------------


def test_a_sampled_sender_is_the_parent_and_one_not_sampled_only_a_link() -> None:
    parent, links = trace_context.from_sender(accepted(VALID))
    span = trace.get_current_span(parent).get_span_context()
    assert (f"{span.trace_id:032x}", f"{span.span_id:016x}") == (TRACE_ID, SPAN_ID)
    assert span.is_remote and span.trace_flags.sampled
    assert links == []

    parent, links = trace_context.from_sender(accepted(f"00-{TRACE_ID}-{SPAN_ID}-00"))
    assert not trace.get_current_span(parent).get_span_context().is_valid
    assert [f"{link.context.trace_id:032x}" for link in links] == [TRACE_ID]

    parent, links = trace_context.from_sender(None)
    assert not trace.get_current_span(parent).get_span_context().is_valid
    assert links == []


def test_only_the_sampled_flag_of_the_sender_is_kept() -> None:
    taken = accepted(f"00-{TRACE_ID}-{SPAN_ID}-ff")
    assert taken is not None
    assert int(taken.span_context().trace_flags) == 1


def test_the_current_context_is_what_a_transmission_keeps(
    exported: InMemorySpanExporter,
) -> None:
    assert trace_context.current() is None
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("making the package") as span:
        made_in = trace_context.current()
    ids = span.get_span_context()
    assert made_in == TraceContext(f"00-{ids.trace_id:032x}-{ids.span_id:016x}-01")


# -- sending ---------------------------------------------------------------------------------


@dataclass
class RecordingTransport:
    """The axis as `_transmit` sees it: what each send carried; fails the first `failures`."""

    failures: int = 0
    sent: list[TraceContext | None] = field(default_factory=list)

    async def send(
        self, recipient: str, data: bytes, *, message_id: str, trace: TraceContext | None = None
    ) -> SendReceipt:
        self.sent.append(trace)
        if len(self.sent) <= self.failures:
            raise TransportError("the axis is away", reason="AXIS_UNAVAILABLE")
        return SendReceipt(reference=f"INBOX#{len(self.sent)}", duplicate=False)


def service(kind: type[Outbound] | type[Inbound], transport: object) -> Any:
    return kind(
        peers=cast(GrpcPeers, None),
        transport=cast(Transport, transport),
        uow_factory=cast(UnitOfWorkFactory, None),
        options=Options(agency_code="000.00.00.H99", max_package_bytes=1024),
    )


def transmission(attempts: int, made_in: TraceContext | None) -> SimpleNamespace:
    return SimpleNamespace(
        recipient="000.00.00.H98",
        message_id="f3c9b1d2-0000-4000-8000-000000000001",
        package_id="p-1",
        attempts=attempts,
        trace_parent=made_in.traceparent if made_in else None,
        trace_state=made_in.tracestate if made_in else None,
    )


async def test_every_attempt_is_a_producer_span_under_the_context_kept_and_carries_its_own(
    exported: InMemorySpanExporter,
) -> None:
    transport = RecordingTransport(failures=1)
    outbound = service(Outbound, transport)
    made_in = accepted(VALID, "congo=t61rcWkgMzE")
    first = await outbound._transmit(transmission(0, made_in), b"<edXML/>")
    second = await outbound._transmit(transmission(1, made_in), b"<edXML/>")
    assert isinstance(first, TransportError)
    assert isinstance(second, SendReceipt)

    spans = named(exported, "exchange.transmit")
    assert len(spans) == 2
    for number, (span, carried) in enumerate(zip(spans, transport.sent, strict=True), start=1):
        assert span.kind == trace.SpanKind.PRODUCER
        assert span.parent is not None
        # Each attempt under the same parent: the span that made the package.
        assert (f"{span.parent.trace_id:032x}", f"{span.parent.span_id:016x}") == (
            TRACE_ID,
            SPAN_ID,
        )
        assert {
            "vanban.exchange.recipient": "000.00.00.H98",
            "messaging.message.id": "f3c9b1d2-0000-4000-8000-000000000001",
            "vanban.exchange.attempt": number,
        }.items() <= dict(span.attributes or {}).items()
        # What the recipient gets is the attempt's own span, and the sender's tracestate.
        assert carried == TraceContext(
            f"00-{TRACE_ID}-{span.context.span_id:016x}-01", "congo=t61rcWkgMzE"
        )
    assert spans[0].status.status_code == trace.StatusCode.ERROR
    assert spans[1].status.status_code == trace.StatusCode.UNSET


async def test_a_transmission_kept_without_a_context_starts_a_trace_of_its_own(
    exported: InMemorySpanExporter,
) -> None:
    transport = RecordingTransport()
    outbound = service(Outbound, transport)
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("the delivery pass") as pass_span:
        await outbound._transmit(transmission(0, None), b"<edXML/>")
    [span] = named(exported, "exchange.transmit")
    assert span.parent is None
    assert span.context.trace_id != pass_span.get_span_context().trace_id
    assert transport.sent[0] is not None
    assert transport.sent[0].trace_id == f"{span.context.trace_id:032x}"


# -- receiving -------------------------------------------------------------------------------


@dataclass
class FakeArrival:
    trace_context: TraceContext | None
    data: bytes = b"<edXML/>"
    message_id: str = "m-1"
    delivery_count: int = 1
    settled: list[str] = field(default_factory=list)

    async def ack(self) -> None:
        self.settled.append("ack")

    async def nak(self, delay: float) -> None:
        self.settled.append("nak")


class Receiving(Inbound):
    """Records the span its work runs in, instead of taking the package."""

    seen: trace.SpanContext | None = None

    async def receive(self, data: bytes, *, message_id: str) -> None:
        self.seen = trace.get_current_span().get_span_context()


async def test_an_arrival_is_taken_in_a_consumer_span_under_its_senders(
    exported: InMemorySpanExporter,
) -> None:
    inbound = service(Receiving, None)
    arrival = FakeArrival(accepted(VALID))
    await inbound._take(arrival)
    assert arrival.settled == ["ack"]
    [span] = named(exported, "exchange.receive")
    assert span.kind == trace.SpanKind.CONSUMER
    assert span.parent is not None
    assert (f"{span.parent.trace_id:032x}", f"{span.parent.span_id:016x}") == (TRACE_ID, SPAN_ID)
    assert inbound.seen == span.context


async def test_an_arrival_without_a_context_or_not_sampled_starts_a_trace_of_its_own(
    exported: InMemorySpanExporter,
) -> None:
    inbound = service(Receiving, None)
    await inbound._take(FakeArrival(None))
    await inbound._take(FakeArrival(accepted(f"00-{TRACE_ID}-{SPAN_ID}-00")))
    plain, unsampled = named(exported, "exchange.receive")
    assert plain.parent is None and list(plain.links) == []
    assert unsampled.parent is None
    assert f"{unsampled.context.trace_id:032x}" != TRACE_ID
    assert [f"{link.context.trace_id:032x}" for link in unsampled.links] == [TRACE_ID]
