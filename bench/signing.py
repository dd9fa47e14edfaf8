"""PAdES signatures/s through the signing service against stock pyHanko in-process (issue 10's
target: the service ≥ 8× the stock figure, on the same PDF, in one run).

usage: uv run python bench/signing.py [--signatures 200] [--concurrency 4] [--stock 20]
                                      [--documents 20] [--workers 2]

Through the service: the platform is started as `vanban up` starts it, and the agency's
signing service is called over gRPC (SignPdf, as documents and exchange call it): the PDF goes
in, the agency's PAdES B-T signature with its visible text comes back, made with the
organisation key in the SoftHSM2 token, timestamped by the local TSA. `--concurrency` calls are
in flight at once; the service signs in `--workers` processes (VANBAN_SIGNING_WORKERS).

Stock: pyHanko's `SimpleSigner` loaded from a PKCS#12 file (RSA-3072, made here), signing the
same PDF in this process with `signers.sign_pdf` and pyHanko's defaults: B-B, invisible, the
signature container sized by a trial signature.

Then the whole paths through the gateway, for what a leader and a clerk see: `--documents`
drafts are submitted and signed by the leader (POST …/sign: the workflow's checks, the PAdES
signature with the leader's image, the archive, the records), issued, and given the agency
signature in batches (POST /v1/outgoing-documents/agency-signatures: the leader signature is
validated first).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from reportlab.pdfgen import canvas

import vanban.launcher  # noqa: F401  (sets up the launcher before gRPC is imported)
from tests.e2e.support import Gateway
from tests.e2e.test_outgoing import draft
from vanban.contracts.signing.v1 import signing_pb2
from vanban.contracts.signing.v1.signing_pb2_grpc import SigningServiceStub
from vanban.launcher.infra import free_port
from vanban.launcher.platform import Platform
from vanban.platform.caller import CALLER_METADATA_KEY, CallerTokenIssuer
from vanban.platform.testing import channel, self_signed

TARGET = 8.0


def letter() -> bytes:
    """A one-page decision as a template makes it, the same for every signature."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.drawString(72, 760, "UY BAN NHAN DAN TINH DEMO")
    for line in range(30):
        page.drawString(72, 720 - 14 * line, f"Dieu {line + 1}. Noi dung cua quyet dinh.")
    page.drawString(360, 230, "CHU TICH")
    page.drawString(380, 170, "{{chu_ky}}")
    page.drawString(350, 100, "Nguyen Van An")
    page.showPage()
    page.save()
    return buffer.getvalue()


def stock_rate(pdf: bytes, count: int, work: Path) -> float:
    key, certificate = self_signed(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nguyễn Văn An")]), key_size=3072
    )
    p12 = work / "stock.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"stock", key, certificate, None, serialization.BestAvailableEncryption(b"bench")
        )
    )
    signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=b"bench")
    assert signer is not None
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    started = time.perf_counter()
    for _ in range(count):
        out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    elapsed = time.perf_counter() - started
    assert out.getvalue().startswith(pdf)
    return count / elapsed


async def service_rate(
    address: str, token: str, pdf: bytes, count: int, concurrency: int
) -> tuple[float, bytes]:
    async with channel(address) as ch:
        stub = SigningServiceStub(ch)
        request = signing_pb2.SignPdfRequest(pdf=pdf, lines=["Số: 05/QĐ-UBND", "Bản sao điện tử"])
        metadata = ((CALLER_METADATA_KEY, token),)
        last: list[bytes] = []

        async def one() -> None:
            answer = await stub.SignPdf(request, metadata=metadata, timeout=60)
            last[:] = [answer.signed_pdf]

        for _ in range(3):
            await one()
        queue = asyncio.Queue[int]()
        for i in range(count):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                await one()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        return count / elapsed, last[0]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(response: Any, status: int = 200) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return response.json()


def gateway_paths(gateway: Gateway, pdf: bytes, documents: int) -> tuple[float, float]:
    """Leader signatures/s and agency signatures/s through the gateway's whole paths."""
    drafter, leader, clerk = (gateway.token(n) for n in ("chuyenvien", "lanhdao", "vanthu"))
    leader_id = _ok(gateway.http.get("/v1/me", headers=auth(leader)))["id"]
    ids = []
    for _ in range(documents):
        created = draft(gateway, drafter, pdf, subject="Quyết định đo tốc độ ký số")
        document_id = _ok(created, 201)["id"]
        _ok(
            gateway.http.post(
                f"/v1/outgoing-documents/{document_id}/submit",
                headers=auth(drafter),
                json={"signer_id": leader_id},
            )
        )
        ids.append(document_id)
    started = time.perf_counter()
    for document_id in ids:
        _ok(gateway.http.post(f"/v1/outgoing-documents/{document_id}/sign", headers=auth(leader)))
    leader_rate = len(ids) / (time.perf_counter() - started)
    for document_id in ids:
        _ok(gateway.http.post(f"/v1/outgoing-documents/{document_id}/issue", headers=auth(clerk)))
    started = time.perf_counter()
    for start in range(0, len(ids), 20):
        results = _ok(
            gateway.http.post(
                "/v1/outgoing-documents/agency-signatures",
                headers=auth(clerk),
                json={"document_ids": ids[start : start + 20]},
            )
        )["results"]
        failed = [r for r in results if not r["signature"]]
        if failed:
            raise RuntimeError(f"agency signatures refused: {failed[:2]}")
    agency_rate = len(ids) / (time.perf_counter() - started)
    return leader_rate, agency_rate


def run(*, signatures: int, concurrency: int, stock: int, documents: int, workers: int) -> None:
    pdf = letter()
    data_dir = Path(tempfile.mkdtemp(prefix="vanban-bench-"))
    data_dir.chmod(0o755)
    platform = Platform(
        data_dir,
        gateway_base_port=free_port(),
        env={
            "OTEL_SDK_DISABLED": "true",
            # The batch below makes the agency signatures; none is made at issue here.
            "VANBAN_SIGNING_AUTO_AGENCY_SIGNATURE": "false",
            "VANBAN_SIGNING_WORKERS": str(workers),
        },
    )
    try:
        print("starting the platform ...", flush=True)
        platform.start()
        agency = platform.agencies[0]
        token = CallerTokenIssuer.from_keys_dir(agency.keys_dir).service_token(
            agency.spec.code, "exchange"
        )
        service, signed = asyncio.run(
            service_rate(agency.address("signing"), token, pdf, signatures, concurrency)
        )
        reader = PdfFileReader(io.BytesIO(signed))
        assert signed.startswith(pdf) and len(reader.embedded_signatures) == 1
        stocked = stock_rate(pdf, stock, data_dir)
        gateway = Gateway(agency.gateway_url)
        leader_rate, agency_rate = gateway_paths(gateway, pdf, documents)
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    ratio = service / stocked
    print(f"PDF: {len(pdf)} bytes, one page")
    print(
        f"signing service (gRPC SignPdf, B-T, visible text, token key), {signatures} signatures, "
        f"{concurrency} in flight, {workers} signing processes: {service:.1f} signatures/s"
    )
    print(f"stock pyHanko SimpleSigner in-process (B-B, invisible, PKCS#12): {stocked:.2f}/s")
    print(
        f"ratio: {ratio:.1f}x (target >= {TARGET:.0f}x): {'met' if ratio >= TARGET else 'MISSED'}"
    )
    print(
        f"through the gateway, leader's signature (…/sign), {documents} drafts: {leader_rate:.1f}/s"
    )
    print(f"through the gateway, agency signature batches of 20: {agency_rate:.1f}/s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signatures", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--stock", type=int, default=20)
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    run(
        signatures=args.signatures,
        concurrency=args.concurrency,
        stock=args.stock,
        documents=args.documents,
        workers=args.workers,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
