"""Nothing is stored for a request that is refused (issue 6): for each class of refusal the
archive has no row and the S3 bucket no object for the bytes that were sent.

Most refusals come from the gateway before it uploads anything; a refusal by documents after
the upload (here: its calendar puts the day of arrival before the document's issue date) gives
the file back to the archive at once, unless another registration holds the same bytes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest

from tests.e2e.support import Gateway, archive_holds, archive_was_asked, make_pdf, metadata
from vanban.contracts.documents.v1 import documents_pb2, documents_pb2_grpc
from vanban.launcher.platform import Platform
from vanban.platform.testing import TokenMint

NOTHING = (False, 0)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def never_uploaded(platform: Platform, pdf: bytes) -> bool:
    """Refused before the upload: nothing stored, and the archive never even heard of it (a
    refusal after the upload would leave the release in its audit log)."""
    return archive_holds(platform, pdf) == NOTHING and not archive_was_asked(platform, pdf)


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    return body


def test_metadata_documents_would_refuse_stores_nothing(
    platform: Platform, gateway: Gateway, clerk_token: str
) -> None:
    pdf = make_pdf()
    body = refused(
        gateway.register(clerk_token, pdf=pdf, meta=metadata(issuer_code="abc")),
        400,
        "INVALID_METADATA",
    )
    assert body["errors"] == [
        {
            "field": "metadata.issuer_code",
            "detail": "must be an agency identifier such as 000.00.00.G22",
        }
    ]
    assert never_uploaded(platform, pdf)


def test_a_document_above_the_clerks_clearance_stores_nothing(
    platform: Platform, gateway: Gateway, clerk_token: str
) -> None:
    pdf = make_pdf()  # the demo clerk is cleared for mật (confidential) only
    refused(
        gateway.register(clerk_token, pdf=pdf, meta=metadata(secrecy="secret")),
        403,
        "CLEARANCE_TOO_LOW",
    )
    assert never_uploaded(platform, pdf)


def test_a_caller_without_the_role_stores_nothing(platform: Platform, gateway: Gateway) -> None:
    pdf = make_pdf()
    refused(gateway.register(gateway.token("chuyenvien"), pdf=pdf), 403, "ROLE_REQUIRED")
    assert never_uploaded(platform, pdf)


def test_an_api_key_registering_a_secret_document_stores_nothing(
    platform: Platform, gateway: Gateway
) -> None:
    """API keys have clearance none: even with the scope they register ordinary documents only."""
    created = gateway.http.post(
        "/v1/api-keys",
        headers=auth(gateway.token("quantri")),
        json={"name": "Trạm số hóa", "scopes": ["incoming:register"]},
    )
    key = created.json()["key"]
    pdf = make_pdf()
    refused(
        gateway.register(key, pdf=pdf, meta=metadata(secrecy="confidential")),
        403,
        "CLEARANCE_TOO_LOW",
    )
    assert never_uploaded(platform, pdf)
    ordinary = make_pdf()
    assert gateway.register(key, pdf=ordinary).status_code == 201
    assert archive_holds(platform, ordinary) == (True, 1)


@pytest.mark.parametrize(
    "code", ["000.00.00.G22", "H41", "abc", "000-00-00-G22", ".G22", "G22 X", "0000000000000X"]
)
def test_the_gateway_and_documents_agree_on_issuer_codes(
    platform: Platform, gateway: Gateway, clerk_token: str, code: str
) -> None:
    """One rule, from the contract: what the gateway accepts documents registers, and what the
    gateway refuses before the upload documents refuses when asked directly."""
    pdf = make_pdf()
    at_gateway = gateway.register(clerk_token, pdf=pdf, meta=metadata(issuer_code=code))
    if at_gateway.status_code == 201:
        assert archive_holds(platform, pdf) == (True, 1)
        return
    refused(at_gateway, 400, "INVALID_METADATA")
    assert never_uploaded(platform, pdf)
    agency = platform.agencies[0]
    clerk = TokenMint(agency.keys_dir, agency.spec.code).person(
        "agreement-test", roles=("clerk",), clearance="confidential"
    )
    with grpc.insecure_channel(agency.address("documents")) as channel:
        stub = documents_pb2_grpc.DocumentRegistryServiceStub(channel)
        with pytest.raises(grpc.RpcError) as at_documents:
            stub.RegisterIncomingDocument(
                documents_pb2.RegisterIncomingDocumentRequest(
                    issuer_code=code,
                    issuer_name="Văn phòng Chính phủ",
                    code_number="05",
                    code_notation="QĐ-VPCP",
                    issued_date="2026-01-05",
                    document_type="Quyết định",
                    subject="V/v kiểm tra",
                    # Bytes nobody stored: documents must refuse before it looks at them.
                    file=documents_pb2.FileRef(
                        sha256="0" * 64, size=1, content_type="application/pdf"
                    ),
                ),
                metadata=(("x-vanban-caller", clerk),),
                timeout=10,
            )
    assert at_documents.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "issuer_code" in (at_documents.value.details() or "")


# Refused by documents after the upload. ---------------------------------------------------

# 26 hours apart: whatever the hour, the gateway's today is a later day than documents' today.
GATEWAY_ZONE, DOCUMENTS_ZONE = "Etc/GMT-14", "Etc/GMT+12"


def restart(platform: Platform, env: dict[str, str | None]) -> None:
    agency = platform.agencies[0]
    killed: list[str] = []
    for service in ("gateway", "documents"):
        if agency.stop_service(service):
            killed.append(service)
        agency.processes.pop(service, None)  # made again from the changed environment
    for name, value in env.items():
        if value is None:
            platform.base_env.pop(name, None)
        else:
            platform.base_env[name] = value
    agency.start_service("documents")
    agency.start_service("gateway")
    agency.wait_ready()
    # Checked once both are back, so that a failure here leaves the platform running.
    assert killed == [], f"did not exit on SIGTERM and were killed: {killed}"


@pytest.fixture(scope="module")
def calendars_apart(platform: Platform) -> Iterator[str]:
    """The gateway and documents on calendars a day apart; yields the gateway's today."""
    restart(
        platform,
        {"VANBAN_GATEWAY_TIMEZONE": GATEWAY_ZONE, "VANBAN_DOCUMENTS_TIMEZONE": DOCUMENTS_ZONE},
    )
    try:
        yield datetime.now(ZoneInfo(GATEWAY_ZONE)).date().isoformat()
    finally:
        restart(platform, {"VANBAN_GATEWAY_TIMEZONE": None, "VANBAN_DOCUMENTS_TIMEZONE": None})


def test_a_registration_documents_refuses_after_the_upload_leaves_no_file(
    platform: Platform, gateway: Gateway, clerk_token: str, calendars_apart: str
) -> None:
    pdf = make_pdf()
    body = refused(
        gateway.register(clerk_token, pdf=pdf, meta=metadata(issued_date=calendars_apart)),
        400,
        "INVALID_INCOMING_DOCUMENT",
    )
    assert [e["field"] for e in body["errors"]] == ["issued_date"]
    assert archive_holds(platform, pdf) == NOTHING
    # Uploaded and given back: the release is in the archive's audit log, which is how the
    # refusals above show that they never reached the archive at all.
    assert archive_was_asked(platform, pdf)


def test_a_refused_registration_keeps_bytes_another_registration_holds(
    platform: Platform, gateway: Gateway, clerk_token: str, calendars_apart: str
) -> None:
    """The same file, registered once and refused once: the refusal gives back only its own
    upload, and the registered document's file stays whole."""
    pdf = make_pdf()
    registered = gateway.register(clerk_token, pdf=pdf)
    assert registered.status_code == 201, registered.text
    refused(
        gateway.register(clerk_token, pdf=pdf, meta=metadata(issued_date=calendars_apart)),
        400,
        "INVALID_INCOMING_DOCUMENT",
    )
    assert archive_holds(platform, pdf) == (True, 1)
    file = gateway.http.get(
        f"/v1/incoming-documents/{registered.json()['id']}/file", headers=auth(clerk_token)
    )
    assert file.status_code == 200 and file.content == pdf
