"""Every statement is a client span inside the work that ran it, with no bound value in it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import insert, select

from libs.platform.tests.integration.conftest import Schema


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    try:
        yield exporter
    finally:
        # The provider keeps its processors; a shut one drops what later tests end.
        processor.shutdown()


def _values(span: ReadableSpan) -> str:
    return " ".join(str(v) for v in (span.attributes or {}).values())


async def test_statements_are_child_spans_of_the_request_without_their_values(
    schema: Schema, exported: InMemorySpanExporter
) -> None:
    secret = f"Nguyễn Văn A {secrets.token_hex(6)}"
    note_id = secrets.token_hex(8)
    tracer = trace.get_tracer("test")

    with tracer.start_as_current_span("RegisterIncomingDocument") as request:
        async with schema.uow() as uow:
            await uow.session.execute(insert(schema.notes).values(id=note_id, text=secret))
            await uow.commit()
        async with schema.sessions() as session:
            found = await session.scalar(
                select(schema.notes.c.text).where(schema.notes.c.id == note_id)
            )
    assert found == secret

    trace_id = request.get_span_context().trace_id
    spans = [s for s in exported.get_finished_spans() if s.context.trace_id == trace_id]
    db_spans = [
        s
        for s in spans
        if (s.attributes or {}).get("db.system", (s.attributes or {}).get("db.system.name"))
        == "postgresql"
    ]
    statements = [
        str((s.attributes or {}).get("db.statement", (s.attributes or {}).get("db.query.text")))
        for s in db_spans
    ]
    assert any(t.startswith("INSERT INTO notes") for t in statements), statements
    assert any(t.startswith("SELECT notes.text") for t in statements), statements
    for span in db_spans:
        assert span.kind is trace.SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == request.get_span_context().span_id
    assert not [s.name for s in spans if secret in _values(s) or note_id in _values(s)]
