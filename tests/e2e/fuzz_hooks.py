"""Schemathesis hooks for the gateway fuzz test (loaded through `SCHEMATHESIS_HOOKS`).

Generated data alone rarely gets past the first checks: a random file is refused as "not a PDF"
before anything is stored, and a random id is a 404 before any service does real work. So the
generated uploads of the fuzzing phase are wrapped in a PDF that opens (the coverage phase
still sends its files as they are), and half of the generated path ids are replaced by ids
of records that exist (`VANBAN_FUZZ_IDS`: path parameter name to id), so that fuzzed bodies also
reach the archive, documents, workflow and directory services.

The fuzzer also follows links between operations (its stateful phase), so it would find the
callers' own ids (`GET /v1/me`) and rename, deactivate or re-password the very accounts it is
fuzzing with. Requests aimed at those records (`VANBAN_FUZZ_PROTECTED`: parameter name to ids)
go to the stand-in record of `VANBAN_FUZZ_IDS` instead.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

PDF_UPLOADS = frozenset({"POST /v1/incoming-documents"})
REAL_IDS: dict[str, str] = json.loads(os.environ.get("VANBAN_FUZZ_IDS") or "{}")
PROTECTED: dict[str, list[str]] = json.loads(os.environ.get("VANBAN_FUZZ_PROTECTED") or "{}")


def _as_pdf(data: bytes) -> bytes:
    """A one-page PDF that opens (the gateway opens every upload) carrying `data` as a stream
    no page uses."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _file_bytes(body: Any) -> bytes | None:
    """The generated file part: schemathesis gives `bytes`, a str subclass carrying `.data`
    (format: binary), or a plain string (negative cases)."""
    if not isinstance(body, dict):
        return None
    file = body.get("file")
    data = getattr(file, "data", file)
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()
    return None


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    operation = context.operation
    data = _file_bytes(body)
    if operation is None or operation.label not in PDF_UPLOADS or data is None:
        return body
    return {**body, "file": _as_pdf(data)}


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> Any:
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    known = {name: REAL_IDS[name] for name in path_parameters if name in REAL_IDS}
    if not known:
        return st.just(path_parameters)
    return st.booleans().map(lambda real: {**path_parameters, **known} if real else path_parameters)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    parameters = case.path_parameters
    if not isinstance(parameters, dict):
        return
    for name, value in list(parameters.items()):
        if str(value) in PROTECTED.get(name, ()) and name in REAL_IDS:
            parameters[name] = REAL_IDS[name]
