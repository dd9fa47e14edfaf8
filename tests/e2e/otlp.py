"""A small OTLP/gRPC trace receiver: the services export their spans here during the tests."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    # Which process of the service sent it (the launcher names each replica here).
    instance: str = ""
    # The spans it links to, as (trace id, span id): e.g. another trace it follows from.
    links: tuple[tuple[str, str], ...] = field(default=(), hash=False, compare=False)


class _Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_trace: dict[str, list[ReceivedSpan]] = defaultdict(list)

    def Export(
        self,
        request: trace_service_pb2.ExportTraceServiceRequest,
        context: grpc.ServicerContext,
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        with self.lock:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                service = resource.get("service.name", "")
                instance = resource.get("service.instance.id", "")
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        received = ReceivedSpan(
                            service=service,
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            kind=span.kind,
                            attributes={
                                a.key: str(getattr(a.value, a.value.WhichOneof("value") or ""))
                                for a in span.attributes
                                if a.value.WhichOneof("value")
                            },
                            instance=instance,
                            links=tuple(
                                (link.trace_id.hex(), link.span_id.hex()) for link in span.links
                            ),
                        )
                        self.by_trace[received.trace_id].append(received)
        return trace_service_pb2.ExportTraceServiceResponse()


class OtlpReceiver:
    def __init__(self) -> None:
        self._collector = _Collector()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self._collector, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=1)

    def spans(self, trace_id: str) -> list[ReceivedSpan]:
        with self._collector.lock:
            return list(self._collector.by_trace.get(trace_id, ()))

    def find(self, predicate: Callable[[ReceivedSpan], bool]) -> list[ReceivedSpan]:
        """Every span received so far, of any trace, that matches."""
        with self._collector.lock:
            return [s for spans in self._collector.by_trace.values() for s in spans if predicate(s)]
