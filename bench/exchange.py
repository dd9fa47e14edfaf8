"""One document to 700 agencies on a local exchange axis (issue 11's target: all 700 have
acknowledged it within 10 s).

usage: uv run python bench/exchange.py [--agencies 700] [--size-kb 200] [--batch 32]
                                       [--receive-batch 16] [--timeout 60]

The axis is real: `AxisServer`, as `vanban up` starts it, with one sender (000.00.00.G22) and
`--agencies` receivers, each with its own account, user, inbox stream and durable consumer; each
inbox holds a small limit (the package's size rounded up to whole MiB) and the file store holds
them all (JetStream reserves every inbox's limit up front).

The package is real: one edXML `DocumentPackage` addressed To every receiver (outbound builds ONE
package listing every recipient), with one attachment of `--size-kb` random bytes behind a PDF
header (a signed PDF's streams are compressed: as incompressible as random bytes), built by
`edxml.build_package` and signed enveloped with signxml as the signing service signs it
(RSA-SHA256, SHA-256 digests, exclusive c14n, the certificate in KeyInfo), with a throwaway
RSA-3072 key and certificate made here. Building and signing are done once per document and are
outside the measured window (the service asks its signing service for it, over gRPC).

Sender (this process): the agency's `NatsAxis.send` to each receiver with a random message id
(as outbound's transmissions have), `--batch` sends at a time with asyncio.gather, batch after
batch: outbound's `deliver_due` with its `send_batch`, without its two database transactions a
batch. A send that fails is tried again after 1 s, as outbound's backoff starts.

Receivers (a process of their own, as other agencies' services are): one `NatsAxis` per agency,
connected with its own credentials and pulling from its own inbox as inbound's loop does
(`fetch(batch=--receive-batch, wait=1.0)`), acking what it gets (the ack is a request the axis
confirms) and checking that it got the package's bytes. Light-weight: no verification, no
archive, no database. Both processes take their times on CLOCK_MONOTONIC, which they share.

Printed: the machine, the package's size, how long the sender took to have every PubAck (the
transport's acknowledgement), how long until every receiver had fetched and acked (the target),
the rates of both, the CPU the axis, the sender and the receivers spent meanwhile, the
machine's CPU and I/O pressure (PSI) over that window, and how long the axis took to stop. Also,
outside the window, whether `edxml.parse` with its default `Limits` (what a receiver reads
before anything else) takes a package with that many To.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)

from vanban.exchange.adapters.axis import NatsAxis
from vanban.exchange.adapters.transport import SendReceipt, TransportError
from vanban.exchange.domain import edxml
from vanban.launcher.infra.axis import AxisAgency, AxisServer, MiB
from vanban.platform.axis_names import inbox_stream
from vanban.platform.testing import self_signed

TARGET_SECONDS = 10.0
SENDER = "000.00.00.G22"
# outbound.deliver_due's first retry comes after about 1 s (2 ** 0, ±20 %).
RETRY_DELAY = 1.0
# inbound.receive_loop's fetch wait.
RECEIVE_WAIT = 1.0


def receiver_code(number: int) -> str:
    """A valid agency code (≤ 13 characters) for receiver `number` (1 … 9999)."""
    return f"000.{number // 100:02d}.01.X{number % 100:02d}"


# The package ----------------------------------------------------------------------------------


def signing_identity() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A throwaway organisation key and certificate, as the token's (RSA-3072) would be."""
    return self_signed(
        x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Văn phòng Chính phủ"),
                x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, SENDER),
                x509.NameAttribute(NameOID.COMMON_NAME, "Văn phòng Chính phủ"),
            ]
        ),
        key_size=3072,
    )


def document_package(receivers: list[str], size: int) -> edxml.DocumentPackage:
    """An issued decision for every receiver, as outbound makes it (one package, every To)."""
    sender = edxml.Organ(
        organ_id=SENDER, organ_name="Văn phòng Chính phủ", organ_add="16 Lê Hồng Phong, Hà Nội"
    )
    issued = date.today()
    organs = tuple(
        edxml.Organ(organ_id=code, organ_name=f"Ủy ban nhân dân xã số {number}")
        for number, code in enumerate(receivers, 1)
    )
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + os.urandom(max(size - 15, 0))
    return edxml.DocumentPackage(
        from_=sender,
        to=organs,
        document_id=edxml.document_id(SENDER, issued, "7816", "VPCP-TTĐT"),
        code=edxml.Code(code_number="7816", code_notation="VPCP-TTĐT"),
        promulgation_place="Hà Nội",
        promulgation_date=issued,
        document_type=edxml.DocumentType(type=1, type_detail=0, type_name="Công văn"),
        subject="Về việc triển khai kết nối, liên thông văn bản điện tử đến cấp xã",
        signer_info=edxml.SignerInfo(
            competence="KT.", position="Phó Chủ nhiệm", full_name="Nguyễn Văn An"
        ),
        to_places=tuple(organ.organ_name for organ in organs),
        other_info=edxml.OtherInfo(priority=0, promulgation_amount=len(organs) + 1, page_amount=3),
        trace_headers=(edxml.TraceHeader(organ_id=SENDER, timestamp=datetime.now(UTC)),),
        business=edxml.Business(doc_type=edxml.BusinessDocType.NEW),
        attachments=(
            edxml.Attachment(
                content_id=str(uuid.uuid4()),
                name="7816-VPCP-TTDT.signed.pdf",
                content_type="application/pdf",
                data=pdf,
            ),
        ),
    )


def sign(xml: bytes, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> bytes:
    """Enveloped XMLDSig over the whole document, as signing's `sign_enveloped` makes it."""
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    root = etree.fromstring(xml, parser=etree.XMLParser(huge_tree=True))
    signed = signer.sign(root, key=key, cert=[certificate])
    data: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return data


@dataclass(frozen=True)
class Package:
    data: bytes
    unsigned_bytes: int
    build_seconds: float
    sign_seconds: float
    parse_verdict: str


def make_package(receivers: list[str], size: int) -> Package:
    key, certificate = signing_identity()
    model = document_package(receivers, size)
    started = time.perf_counter()
    unsigned = edxml.build_package(model)
    built = time.perf_counter()
    signed = sign(unsigned, key, certificate)
    signed_at = time.perf_counter()
    # The signature holds (outside the window, as the receiver's signing service checks it).
    XMLVerifier().verify(
        signed, x509_cert=certificate, expect_references=1, parser=etree.XMLParser(huge_tree=True)
    )
    try:
        parsed = edxml.parse(signed, limits=edxml.Limits())
        assert isinstance(parsed, edxml.DocumentPackage) and len(parsed.to) == len(receivers)
        verdict = "taken"
    except edxml.EdxmlError as exc:
        verdict = f"REFUSED ({exc.reason}: {exc})"
    return Package(signed, len(unsigned), built - started, signed_at - built, verdict)


# Receivers (a process of their own) -----------------------------------------------------------


@dataclass(frozen=True)
class Received:
    code: str
    acked_at: float  # time.monotonic()
    message_id: str
    delivery_count: int
    intact: bool
    extra: int


def receivers_process(conn: Connection) -> None:
    """Entry point of the receivers' process: takes (urls, package, receive batch, timeout),
    answers "ready" once every receiver is connected and pulling, then the results."""
    urls, package, receive_batch, timeout = conn.recv()
    asyncio.run(_receive_all(conn, urls, package, receive_batch, timeout))
    conn.close()


async def _receive_all(
    conn: Connection, urls: dict[str, str], package: bytes, receive_batch: int, within: float
) -> None:
    transports = [NatsAxis(url, code) for code, url in urls.items()]
    try:
        for start in range(0, len(transports), 50):
            await asyncio.gather(*(t.start() for t in transports[start : start + 50]))
        # Every inbox answers its own agency, and is empty.
        for start in range(0, len(transports), 50):
            chunk = transports[start : start + 50]
            early = await asyncio.gather(*(t.fetch(batch=1, wait=0) for t in chunk))
            if any(early):
                raise RuntimeError("an inbox was not empty before the package was sent")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        tasks = [
            asyncio.create_task(_receive(t, package, receive_batch, deadline)) for t in transports
        ]
        await asyncio.sleep(0.3)  # the first pulls are out
        cpu = time.process_time()
        await loop.run_in_executor(None, conn.send, "ready")
        results = await asyncio.gather(*tasks, return_exceptions=True)
        cpu = time.process_time() - cpu
        # Answered before the connections are closed, which takes a while for 700.
        outcome = {
            "received": [r for r in results if isinstance(r, Received)],
            "failures": [repr(r) for r in results if isinstance(r, BaseException)],
            "cpu": cpu,
        }
        await loop.run_in_executor(None, conn.send, outcome)
    finally:
        for start in range(0, len(transports), 50):
            await asyncio.gather(*(t.close() for t in transports[start : start + 50]))


async def _receive(transport: NatsAxis, package: bytes, batch: int, deadline: float) -> Received:
    """Inbound's loop for one agency, until it has taken one package."""
    loop = asyncio.get_running_loop()
    while True:
        if loop.time() > deadline:
            raise TimeoutError(f"{transport.agency_code}: nothing arrived in time")
        try:
            arrivals = await transport.fetch(batch=batch, wait=RECEIVE_WAIT)
        except TransportError:
            await asyncio.sleep(0.1)
            continue
        if not arrivals:
            continue
        first = arrivals[0]
        for arrival in arrivals:
            await arrival.ack()
        return Received(
            code=transport.agency_code,
            acked_at=time.monotonic(),
            message_id=first.message_id,
            delivery_count=first.delivery_count,
            intact=first.data == package,
            extra=len(arrivals) - 1,
        )


# Sender ---------------------------------------------------------------------------------------


async def send_all(
    url: str, package: bytes, receivers: list[str], batch: int
) -> tuple[float, float, dict[str, str], dict[str, SendReceipt], int]:
    """outbound.deliver_due's sending, pass after pass: (started, all acknowledged, message ids,
    receipts, sends retried)."""
    transport = NatsAxis(url, SENDER)
    await transport.start()
    message_ids = {code: str(uuid.uuid4()) for code in receivers}
    receipts: dict[str, SendReceipt] = {}
    retried = 0

    async def transmit(code: str) -> SendReceipt | TransportError:
        try:
            return await transport.send(code, package, message_id=message_ids[code])
        except TransportError as exc:
            return exc

    try:
        due = list(receivers)
        started = time.monotonic()
        while due:
            failed: list[str] = []
            for start in range(0, len(due), batch):
                chunk = due[start : start + batch]
                outcomes = await asyncio.gather(*(transmit(code) for code in chunk))
                for code, outcome in zip(chunk, outcomes, strict=True):
                    if isinstance(outcome, SendReceipt):
                        receipts[code] = outcome
                    else:
                        failed.append(code)
                        print(f"  send to {code} failed, retried: {outcome.reason} {outcome}")
            if failed:
                retried += len(failed)
                if time.monotonic() - started > 60:
                    raise RuntimeError(f"{len(failed)} sends still failing after 60 s")
                await asyncio.sleep(RETRY_DELAY)
            due = failed
        acknowledged = time.monotonic()
    finally:
        await transport.close()
    return started, acknowledged, message_ids, receipts, retried


# The run --------------------------------------------------------------------------------------


def answer(conn: Connection, process: Any, within: float) -> Any:
    """The receivers' next message, or an error if their process ends or stays silent."""
    deadline = time.monotonic() + within
    while not conn.poll(0.2):
        if not process.is_alive():
            raise RuntimeError(f"the receivers' process ended ({process.exitcode})")
        if time.monotonic() > deadline:
            raise RuntimeError("the receivers did not answer in time")
    return conn.recv()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def stalled() -> dict[str, float]:
    """Seconds some task waited for a CPU and for I/O since boot (Linux PSI), when known."""
    totals = {}
    for kind in ("cpu", "io"):
        try:
            line = Path(f"/proc/pressure/{kind}").read_text().splitlines()[0]
        except OSError:
            continue
        totals[kind] = int(line.rsplit("total=", 1)[1]) / 1e6
    return totals


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(*, agencies: int, size_kb: int, batch: int, receive_batch: int, timeout: float) -> bool:
    receivers = [receiver_code(n) for n in range(1, agencies + 1)]
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} "
        f"(other work on it counts too)",
        flush=True,
    )
    package = make_package(receivers, size_kb * 1024)
    print(
        f"package: edXML To {agencies} agencies, one attachment of {size_kb} KB random bytes "
        f"(a signed PDF's stand-in): {len(package.data) / 1024:.0f} KB signed "
        f"({package.unsigned_bytes / 1024:.0f} KB unsigned); built in "
        f"{package.build_seconds * 1000:.0f} ms, signed (signxml, RSA-3072, enveloped) in "
        f"{package.sign_seconds * 1000:.0f} ms, once per document, outside the measured window"
    )
    print(f"edxml.parse with the default Limits (what a receiver reads): {package.parse_verdict}")

    inbox = max(1, -(-(len(package.data) + 64 * 1024) // MiB)) * MiB
    store = (agencies + 1) * inbox + 64 * MiB
    work = Path(tempfile.mkdtemp(prefix="vanban-bench-exchange-"))
    members = [AxisAgency(SENDER), *(AxisAgency(code) for code in receivers)]
    server = AxisServer(
        work / "axis" / "data", members, inbox_max_bytes=inbox, max_file_store=store
    )
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=receivers_process, args=(child,), name="receivers")
    try:
        started = time.perf_counter()
        server.start()
        print(
            f"axis: {agencies + 1} accounts, inboxes and consumers provisioned in "
            f"{time.perf_counter() - started:.1f} s; inboxes of {inbox // MiB} MiB, file store "
            f"{store // MiB} MiB",
            flush=True,
        )
        assert server.pid is not None
        process.start()
        parent.send(
            (
                {code: server.agency_url(code) for code in receivers},
                package.data,
                receive_batch,
                timeout,
            )
        )
        started = time.perf_counter()
        if answer(parent, process, 120) != "ready":
            raise RuntimeError("the receivers did not get ready")
        print(
            f"receivers: {agencies} connections (one NatsAxis each, own credentials) ready in "
            f"{time.perf_counter() - started:.1f} s; nats-server RSS "
            f"{kib(server.pid, 'VmRSS') // 1024} MiB",
            flush=True,
        )
        server_cpu = cpu_seconds(server.pid)
        pressure = stalled()
        own_cpu = time.process_time()
        sent_at, acknowledged, message_ids, receipts, retried = asyncio.run(
            send_all(server.agency_url(SENDER), package.data, receivers, batch)
        )
        own_cpu = time.process_time() - own_cpu
        outcome = answer(parent, process, timeout + 30)
        pressure = {kind: total - pressure[kind] for kind, total in stalled().items()}
        server_cpu = cpu_seconds(server.pid) - server_cpu
        server_peak = kib(server.pid, "VmHWM")
        process.join(30)
    finally:
        if process.is_alive():
            process.terminate()
            process.join(10)
        stopping = time.perf_counter()
        killed = server.stop()
        stopped = time.perf_counter() - stopping
        shutil.rmtree(work, ignore_errors=True)

    received: list[Received] = outcome["received"]
    for failure in outcome["failures"][:5]:
        print(f"  receiver failed: {failure}")
    wrong = [
        r
        for r in received
        if not r.intact or r.message_id != message_ids[r.code] or r.extra or r.delivery_count != 1
    ]
    for r in wrong[:5]:
        print(f"  receiver {r.code}: {r}")
    misplaced = [
        code
        for code, receipt in receipts.items()
        if receipt.duplicate or not receipt.reference.startswith(inbox_stream(code) + "#")
    ]
    pubacks = acknowledged - sent_at
    taken = [r.acked_at - sent_at for r in received]
    everyone = max(taken) if len(received) == agencies else float("inf")
    megabytes = len(package.data) * agencies / 1e6
    print(
        f"sender: NatsAxis.send, batches of {batch} with asyncio.gather (outbound's send_batch), "
        f"random message ids; {retried} sends retried"
    )
    print(
        f"  all {len(receipts)} PubAcks (transport acknowledgement) in {pubacks:.2f} s: "
        f"{len(receipts) / pubacks:.0f} packages/s, {megabytes / pubacks:.0f} MB/s"
    )
    print(
        f"receivers: fetch(batch={receive_batch}, wait={RECEIVE_WAIT:g}) and confirmed ack; "
        f"{len(received)}/{agencies} took the package intact once"
        + (f", {len(wrong)} not as expected" if wrong else "")
    )
    if taken:
        print(
            f"  acked after: first {min(taken):.2f} s, median {statistics.median(taken):.2f} s, "
            f"p95 {percentile(taken, 0.95):.2f} s, last {max(taken):.2f} s"
        )
    print(
        f"  all {agencies} fetched and acked in {everyone:.2f} s: "
        f"{agencies / everyone:.0f} packages/s (target <= {TARGET_SECONDS:.0f} s: "
        f"{'met' if everyone <= TARGET_SECONDS else 'MISSED'})"
    )
    print(
        f"CPU meanwhile: nats-server {server_cpu:.1f} s (peak RSS {server_peak // 1024} MiB), "
        f"sender {own_cpu:.1f} s, receivers {outcome['cpu']:.1f} s"
    )
    if pressure:
        window = max(everyone, pubacks)
        print(
            "the machine meanwhile (PSI, some task waiting): "
            + ", ".join(f"{kind} {100 * t / window:.0f} %" for kind, t in pressure.items())
            + " of the window"
        )
    print(
        f"axis stopped in {stopped:.1f} s"
        + (" (killed after the grace period)" if killed else " (SIGTERM, not killed)")
    )
    if misplaced:
        print(f"  receipts not of the recipient's inbox or duplicates: {misplaced[:5]}")
    return everyone <= TARGET_SECONDS and not wrong and not misplaced and not outcome["failures"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=700, help="receivers (default 700)")
    parser.add_argument("--size-kb", type=int, default=200, help="attachment size (default 200)")
    parser.add_argument(
        "--batch", type=int, default=32, help="sends at once (outbound's send_batch, default 32)"
    )
    parser.add_argument(
        "--receive-batch", type=int, default=16, help="fetch batch (inbound's, default 16)"
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds the receivers wait (default 60)"
    )
    args = parser.parse_args()
    if not 1 <= args.agencies <= 9999 or args.size_kb < 0 or args.batch < 1:
        parser.error("--agencies 1…9999, --size-kb ≥ 0, --batch ≥ 1")
    ok = run(
        agencies=args.agencies,
        size_kb=args.size_kb,
        batch=args.batch,
        receive_batch=args.receive_batch,
        timeout=args.timeout,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
