"""OpenTelemetry set-up: traces and metrics, exported over OTLP when `OTEL_*` says so.

The standard variables decide: `OTEL_EXPORTER_OTLP_ENDPOINT` (or the per-signal
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns export on; `OTEL_TRACES_EXPORTER=console` prints
spans; `OTEL_SDK_DISABLED=true` turns everything off. Without them spans are still created (so
logs carry trace ids and context still propagates), just not exported.

Every PostgreSQL statement is a client span under the span that ran it (the RPC being served,
the consumer's message, the relay's batch). The spans carry the SQL text with its `$n`
placeholders only: bound values hold personal data and are never captured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from opentelemetry import metrics, propagate, trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def shutdown(self) -> None:
        self.tracer_provider.force_flush()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def _otlp_configured(signal: str) -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
    )


def setup_telemetry(service_name: str, *, agency_code: str) -> Telemetry:
    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME", f"vanban-{service_name}"),
            "service.namespace": "vanban",
            "vanban.agency": agency_code,
        }
    )
    disabled = os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true"
    tracer_provider = TracerProvider(resource=resource)
    exporter_names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")
    if not disabled and "otlp" in exporter_names and _otlp_configured("TRACES"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if not disabled and "console" in exporter_names:
        tracer_provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))

    readers: list[MetricReader] = []
    metric_exporters = os.environ.get("OTEL_METRICS_EXPORTER", "otlp").split(",")
    if not disabled and "otlp" in metric_exporters and _otlp_configured("METRICS"):
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)

    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    # Trace context only: no baggage rides between services (nothing reads it, and whatever
    # rode in would be stored with every event).
    propagate.set_global_textmap(CompositePropagator([TraceContextTextMapPropagator()]))
    database = AsyncPGInstrumentor(capture_parameters=False)
    if not database.is_instrumented_by_opentelemetry:
        database.instrument(tracer_provider=tracer_provider)
    return Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)
