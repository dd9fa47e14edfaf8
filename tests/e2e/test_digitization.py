"""Digitization on the platform as `vanban up` runs it: the documents text worker is one more
process, and a paper scan registered through the gateway is OCRed and indexed for search."""

from __future__ import annotations

import hashlib
from typing import Any

from services.documents.tests.pdfs import scan_pdf, scanned_page
from tests.e2e.support import Gateway, archive_holds, eventually, metadata, query
from vanban.launcher.platform import WORKERS, Platform


def test_the_text_worker_runs_beside_the_services(platform: Platform) -> None:
    agency = platform.agencies[0]
    assert {worker: agency.health(worker) for worker in WORKERS} == dict.fromkeys(
        WORKERS, "SERVING"
    )


def test_a_paper_scan_registered_through_the_gateway_is_found_by_a_word_of_its_image(
    platform: Platform, gateway: Gateway, clerk_token: str
) -> None:
    scan = scan_pdf((scanned_page(200), 200))
    response = gateway.register(
        clerk_token,
        pdf=scan,
        meta=metadata(received_via="paper", code_number="77", code_notation="QĐ-UBND"),
    )
    assert response.status_code == 201, response.text
    document_id = response.json()["id"]

    def found() -> bool:
        # Words of the image only (the registration's metadata says nothing of them), without
        # diacritics, through the search box.
        answer = gateway.http.get(
            "/v1/search",
            params={"q": "to cong tac so hoa tai lieu luu tru", "page_size": 100},
            headers={"Authorization": f"Bearer {clerk_token}"},
        )
        assert answer.status_code == 200, answer.text
        return document_id in [item["id"] for item in answer.json()["items"]]

    def state() -> str:
        rows = query(
            platform,
            "documents",
            "SELECT state FROM text_jobs WHERE document_id = :id",
            id=document_id,
        )
        return str(rows[0].state)

    # Before its text is read, the scan is not found by the words of its image.
    seen_early = found()
    if state() in ("queued", "running"):
        assert not seen_early

    def job() -> Any:
        rows = query(
            platform,
            "documents",
            "SELECT state, pages_done, pages_total, error FROM text_jobs WHERE document_id = :id",
            id=document_id,
        )
        return rows if rows and rows[0].state in ("done", "failed") else None

    [finished] = eventually(job, timeout=180) or [None]
    assert finished is not None, "the text job did not end within 3 minutes"
    assert (finished.state, finished.error) == ("done", None)
    assert finished.pages_done == finished.pages_total == 1
    assert found()
    # The original stays as it was uploaded: one object, one version, the same hash.
    assert archive_holds(platform, scan) == (True, 1)
    assert hashlib.sha256(scan).hexdigest() == response.json()["file"]["sha256"]
