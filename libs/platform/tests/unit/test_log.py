"""JSON log lines as an operator reads them: one object, trace ids, Vietnamese text readable."""

import json
import logging
import sys
from datetime import date

from opentelemetry.sdk.trace import TracerProvider

from vanban.platform.log import JsonFormatter, TextFormatter

tracer = TracerProvider().get_tracer("test")


def make_record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "vanban.documents", logging.WARNING, __file__, 1, message, args, None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_line_inside_a_span_carries_its_trace_and_span_ids() -> None:
    formatter = JsonFormatter("documents")

    with tracer.start_as_current_span("register") as span:
        line = formatter.format(make_record("registered %s", "văn bản"))
    context = span.get_span_context()

    entry = json.loads(line)
    assert entry["trace_id"] == format(context.trace_id, "032x")
    assert entry["span_id"] == format(context.span_id, "016x")
    assert len(entry["trace_id"]) == 32
    assert len(entry["span_id"]) == 16
    assert entry["service"] == "documents"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "vanban.documents"


def test_a_line_outside_any_span_has_no_trace_ids() -> None:
    entry = json.loads(JsonFormatter("documents").format(make_record("idle")))
    assert "trace_id" not in entry
    assert "span_id" not in entry


def test_vietnamese_text_is_written_as_is_and_the_line_stays_valid_json() -> None:
    text = 'Văn bản đến số 05/QĐ-UBND "hỏa tốc"\nđã đăng ký'

    line = JsonFormatter("documents").format(make_record("%s", text, người_nhận="Nguyễn Văn A"))

    assert "Văn bản đến số 05/QĐ-UBND" in line
    assert "\\u" not in line
    assert "\n" not in line  # one object a line
    entry = json.loads(line)
    assert entry["message"] == text
    assert entry["người_nhận"] == "Nguyễn Văn A"


def test_extra_fields_are_included_and_values_json_cannot_encode_are_written_as_text() -> None:
    entry = json.loads(
        JsonFormatter("documents").format(
            make_record("x", document_id="d-1", arrival_day=date(2025, 3, 14))
        )
    )
    assert entry["document_id"] == "d-1"
    assert entry["arrival_day"] == "2025-03-14"


def test_an_exception_is_logged_with_its_traceback() -> None:
    try:
        raise ValueError("sai định dạng")
    except ValueError:
        record = make_record("failed")
        record.exc_info = sys.exc_info()

    entry = json.loads(JsonFormatter("documents").format(record))
    assert "Traceback" in entry["exception"]
    assert "ValueError: sai định dạng" in entry["exception"]


def test_a_terminal_line_shows_the_fixed_message_and_then_every_field() -> None:
    record = make_record("PostgreSQL ready", address="127.0.0.1:5432", seconds=1.25)

    line = TextFormatter().format(record)

    assert line == "WARNING vanban.documents: PostgreSQL ready address=127.0.0.1:5432 seconds=1.25"
