"""Signing through the gateway (issue 10, ADR 0011): the leader signs at the chain's sign step,
the clerk issues, the agency's signature follows by itself; pyHanko in another process trusts
both under the agency CA, and nothing on the page moved outside the signature boxes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from PIL import Image, ImageChops, ImageDraw
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.pdfgen import canvas

from tests.e2e.conftest import start_platform, stop_platform
from tests.e2e.support import Gateway, eventually, make_pdf
from tests.e2e.test_outgoing import draft, issue
from vanban.launcher.platform import Platform
from vanban.platform.testing import self_signed

DPI = 72


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def letter(text: str) -> bytes:
    """A decision as a template makes it: the signer's title, the anchor where the leader's
    signature goes, then the name."""
    buffer = io.BytesIO()
    # Uncompressed, so that a test can find its words and change one.
    page = canvas.Canvas(buffer, invariant=1, pageCompression=0)
    page.drawString(72, 760, "UY BAN NHAN DAN TINH DEMO")
    for line in range(25):
        page.drawString(72, 720 - 14 * line, f"{text} - dieu {line + 1}.")
    page.drawString(360, 230, "CHU TICH")
    page.drawString(380, 170, "{{chu_ky}}")
    page.drawString(350, 100, "Nguyen Van An")
    page.showPage()
    page.save()
    return buffer.getvalue()


def png(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((20, 20, 380, 180), outline=(*colour, 255), width=14)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def me(gateway: Gateway, token: str) -> str:
    return str(gateway.http.get("/v1/me", headers=auth(token)).json()["id"])


def submit(gateway: Gateway, drafter: str, document_id: str, leader_id: str) -> None:
    submitted = gateway.http.post(
        f"/v1/outgoing-documents/{document_id}/submit",
        headers=auth(drafter),
        json={"signer_id": leader_id},
    )
    assert submitted.status_code == 200, submitted.text


def sign(gateway: Gateway, token: str, document_id: str, **body: Any) -> httpx.Response:
    return gateway.http.post(
        f"/v1/outgoing-documents/{document_id}/sign", headers=auth(token), json=body or None
    )


VALIDATE = """
import io, json, sys
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
root = load_cert_from_pemder(sys.argv[2])
reader = PdfFileReader(io.BytesIO(open(sys.argv[1], "rb").read()))
out = []
for sig in reader.embedded_signatures:
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[root], allow_fetching=False))
    rect = [float(v) for v in sig.sig_field["/Kids"][0]["/Rect"]] if "/Kids" in sig.sig_field \
        else [float(v) for v in sig.sig_field["/Rect"]]
    out.append({
        "field": sig.field_name, "intact": status.intact, "valid": status.valid,
        "trusted": status.trusted, "bottom_line": status.bottom_line,
        "signer": status.signing_cert.subject.human_friendly, "rect": rect,
    })
print(json.dumps(out))
"""


def validate_elsewhere(data: bytes, root_pem: str, tmp: Path) -> list[dict[str, Any]]:
    (tmp / "signed.pdf").write_bytes(data)
    (tmp / "root.pem").write_text(root_pem)
    done = subprocess.run(
        [sys.executable, "-c", VALIDATE, str(tmp / "signed.pdf"), str(tmp / "root.pem")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def render(data: bytes, tmp: Path, name: str) -> Image.Image:
    (tmp / f"{name}.pdf").write_bytes(data)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(DPI),
            "-png",
            "-singlefile",
            str(tmp / f"{name}.pdf"),
            str(tmp / name),
        ],
        check=True,
        capture_output=True,
    )
    return Image.open(tmp / f"{name}.png").convert("RGB")


def _pixels(image: Image.Image, rect: list[float]) -> list[tuple[int, int, int]]:
    x1, y1, x2, y2 = rect
    box = image.crop((int(x1), image.height - int(y2), int(x2), image.height - int(y1)))
    raw = box.convert("RGB").tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def red_inside(image: Image.Image, rect: list[float]) -> bool:
    return sum(1 for r, g, b in _pixels(image, rect) if r > 150 and g < 90 and b < 90) > 50


def blue_inside(image: Image.Image, rect: list[float]) -> bool:
    return sum(1 for r, g, b in _pixels(image, rect) if b > 150 and r < 90 and g < 120) > 50


def blank(image: Image.Image, rects: list[list[float]]) -> Image.Image:
    masked = image.copy()
    draw = ImageDraw.Draw(masked)
    for x1, y1, x2, y2 in rects:
        draw.rectangle((x1 - 2, image.height - y2 - 2, x2 + 2, image.height - y1 + 2), fill="white")
    return masked


def test_leader_then_agency_signatures_are_trusted_and_move_nothing(
    gateway: Gateway, clerk_token: str, tmp_path: Path
) -> None:
    admin, drafter = gateway.token("quantri"), gateway.token("chuyenvien")
    leader = gateway.token("lanhdao")
    leader_id = me(gateway, leader)
    leader_name = gateway.http.get("/v1/me", headers=auth(leader)).json()["full_name"]
    # The leader's blue signature and the agency's red seal, as the administrator sets them.
    assert (
        gateway.http.put(
            f"/v1/people/{leader_id}/signature-image",
            headers=auth(admin),
            files={"file": ("chu-ky.png", png((20, 40, 200)), "image/png")},
        ).status_code
        == 200
    )
    assert (
        gateway.http.put(
            "/v1/agency/seal-image",
            headers=auth(admin),
            files={"file": ("con-dau.png", png((220, 20, 20)), "image/png")},
        ).status_code
        == 200
    )
    source = letter("Quyet dinh ky so")
    created = draft(gateway, drafter, source)
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    submit(gateway, drafter, document_id, leader_id)

    # Only the signer the chain waits for signs; the drafter cannot.
    refused = sign(gateway, drafter, document_id)
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_YOUR_STEP", refused.text
    # The agency signs only what is issued.
    early = sign(gateway, clerk_token, document_id, kind="agency")
    assert early.status_code == 400 and early.json()["code"] == "DOCUMENT_NOT_ISSUED", early.text

    signed = sign(gateway, leader, document_id, comment="Ký ban hành")
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["approval"]["state"] == "approved"
    assert body["signature"]["kind"] == "leader"
    assert f"CN={leader_name}" in body["signature"]["certificate_subject"]
    # A second signature of the same step is refused by the workflow: it moved on.
    again = sign(gateway, leader, document_id)
    assert again.status_code == 400 and again.json()["code"] == "APPROVAL_CLOSED", again.text

    issued = issue(gateway, clerk_token, document_id)
    assert issued.status_code == 200, issued.text

    def both() -> list[dict[str, Any]] | None:
        answer = gateway.http.get(
            f"/v1/outgoing-documents/{document_id}/signatures", headers=auth(clerk_token)
        )
        assert answer.status_code == 200, answer.text
        made = answer.json()["signatures"]
        return made if len(made) == 2 else None

    made = eventually(both)
    assert made is not None, "the agency signature was not made after issue"
    assert [s["kind"] for s in made] == ["leader", "agency"]
    assert made[1]["source_sha256"] == made[0]["file"]["sha256"]

    # The signed file as documents now serves it.
    def signed_file() -> bytes | None:
        answer = gateway.http.get(
            f"/v1/outgoing-documents/{document_id}/signed-file", headers=auth(clerk_token)
        )
        if answer.status_code != 200:
            return None
        return answer.content if answer.content != source else None

    final = eventually(signed_file)
    assert final is not None and final.startswith(source)

    certificates = gateway.http.get("/v1/certificates", headers=auth(clerk_token)).json()[
        "certificates"
    ]
    root = next(c for c in certificates if c["role"] == "trust_root" and not c["imported"])
    found = validate_elsewhere(final, root["pem"], tmp_path)
    assert len(found) == 2
    for one in found:
        assert (one["intact"], one["valid"], one["trusted"], one["bottom_line"]) == (
            True,
            True,
            True,
            True,
        ), one
    assert f"Common Name: {leader_name}" in found[0]["signer"]
    assert "Organization Identifier" in found[1]["signer"] or "000.00.00.H99" in found[1]["signer"]

    # The seal at real size (36 mm) over the left third of the leader's signature.
    (lx1, ly1, lx2, ly2), (sx1, sy1, sx2, sy2) = found[0]["rect"], found[1]["rect"]
    seal = 36 * 72 / 25.4
    assert abs(sx2 - (lx1 + (lx2 - lx1) / 3)) <= 1
    assert abs((sx2 - sx1) - seal) <= 1 and abs((sy2 - sy1) - seal) <= 1
    assert abs((sy1 + sy2) / 2 - (ly1 + ly2) / 2) <= 1

    before, after = render(source, tmp_path, "before"), render(final, tmp_path, "after")
    rects = [one["rect"] for one in found]
    # Red of the seal and blue of the signature were drawn, each inside its own box.
    assert red_inside(after, found[1]["rect"]) and not red_inside(before, found[1]["rect"])
    assert blue_inside(after, found[0]["rect"])
    assert ImageChops.difference(before, after).getbbox() is not None
    assert ImageChops.difference(blank(before, rects), blank(after, rects)).getbbox() is None

    # The same file through the validation API: two signatures, the second the agency's.
    report = gateway.http.post(
        "/v1/signatures/validate",
        headers=auth(drafter),
        files={"file": ("da-ky.pdf", final, "application/pdf")},
    )
    assert report.status_code == 200, report.text
    checked = report.json()
    assert checked["ok"] is True and len(checked["signatures"]) == 2
    assert [s["organisation"] for s in checked["signatures"]] == [False, True]
    rendered = gateway.http.get(
        f"/v1/signatures/reports/{checked['id']}/pdf", headers=auth(drafter)
    )
    assert rendered.status_code == 200 and rendered.content.startswith(b"%PDF-")

    # Altered copies of the same file, through the same route: a byte flipped inside what the
    # leader signed breaks it; a page changed in a later incremental update is a modification.
    position = final.index(b"Quyet dinh ky so")
    flipped = validate(gateway, drafter, final[:position] + b"X" + final[position + 1 :])
    assert flipped["ok"] is False
    assert (flipped["signatures"][0]["intact"], flipped["signatures"][0]["ok"]) == (False, False)
    writer = IncrementalPdfFileWriter(io.BytesIO(final))
    forged = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 600 Td (Da huy) Tj ET")
    )
    writer.add_stream_to_page(0, forged)
    changed = io.BytesIO()
    writer.write(changed)
    modified = validate(gateway, drafter, changed.getvalue())
    assert modified["ok"] is False
    last = modified["signatures"][-1]
    assert last["intact"] is True and last["modification_level"] == "other" and last["ok"] is False

    # The clerk's batch: already signed, said so per document.
    batch = gateway.http.post(
        "/v1/outgoing-documents/agency-signatures",
        headers=auth(clerk_token),
        json={"document_ids": [document_id]},
    )
    assert batch.status_code == 200, batch.text
    assert batch.json()["results"][0]["already_signed"] is True


def validate(gateway: Gateway, token: str, pdf: bytes) -> dict[str, Any]:
    answer = gateway.http.post(
        "/v1/signatures/validate",
        headers=auth(token),
        files={"file": ("tai-lieu.pdf", pdf, "application/pdf")},
    )
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


def stranger_signed(pdf: bytes) -> bytes:
    """`pdf` signed by a CA the agency never heard of (software keys, stock pyHanko)."""
    key, certificate = self_signed(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA lạ")]))
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(
            certificate.public_bytes(serialization.Encoding.DER)
        ),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore(),
    )
    meta = signers.PdfSignatureMetadata(field_name="Sig1", md_algorithm="sha256")
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    return bytes(out.getvalue())


def test_validation_reports_unsigned_and_untrusted_files(
    gateway: Gateway, clerk_token: str
) -> None:
    plain = make_pdf("Khong ky")
    unsigned = validate(gateway, clerk_token, plain)
    assert unsigned["ok"] is False and unsigned["signatures"] == []
    # Signed by an unknown CA: the bytes are intact, the signer is not trusted.
    untrusted = validate(gateway, clerk_token, stranger_signed(plain))
    (signature,) = untrusted["signatures"]
    assert (signature["intact"], signature["valid"], signature["trusted"]) == (True, True, False)
    assert signature["ok"] is False and untrusted["ok"] is False
    assert signature["signer"]["subject"] == "CN=CA lạ"
    # A report is its asker's: another person does not get it.
    other = gateway.token("chuyenvien")
    assert (
        gateway.http.get(
            f"/v1/signatures/reports/{untrusted['id']}", headers=auth(other)
        ).status_code
        == 404
    )
    mine = gateway.http.get(f"/v1/signatures/reports/{untrusted['id']}", headers=auth(clerk_token))
    assert mine.status_code == 200 and mine.json()["id"] == untrusted["id"]
    strangers = httpx.post(
        f"{gateway.base_url}/v1/signatures/validate",
        files={"file": ("khong-ky.pdf", plain, "application/pdf")},
    )
    assert strangers.status_code == 401


@pytest.fixture(scope="module")
def unapproved_platform() -> Iterator[Platform]:
    """An agency whose registry numbers drafts without an approval chain (no leader signs)."""
    platform, data_dir = start_platform(
        None, extra_env={"VANBAN_DOCUMENTS_APPROVAL_REQUIRED": "false"}
    )
    yield platform
    stop_platform(platform, data_dir)


def test_the_agency_signature_needs_a_leader_signature(unapproved_platform: Platform) -> None:
    gateway = Gateway(unapproved_platform.agencies[0].gateway_url)
    clerk, drafter = gateway.token("vanthu"), gateway.token("chuyenvien")
    created = draft(gateway, drafter, letter("Khong co chu ky lanh dao"))
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    issued = issue(gateway, clerk, document_id)
    assert issued.status_code == 200, issued.text
    refused = sign(gateway, clerk, document_id, kind="agency")
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "LEADER_SIGNATURE_REQUIRED"
    listed = gateway.http.get(
        f"/v1/outgoing-documents/{document_id}/signatures", headers=auth(clerk)
    )
    assert listed.json()["signatures"] == []


def test_a_revoked_certificate_signs_nothing_again(gateway: Gateway, clerk_token: str) -> None:
    admin, drafter = gateway.token("quantri"), gateway.token("chuyenvien")
    leader = gateway.token("lanhdao")
    leader_id = me(gateway, leader)

    def signed_once() -> dict[str, Any]:
        created = draft(gateway, drafter, letter("Thu hoi chung thu"))
        assert created.status_code == 201, created.text
        submit(gateway, drafter, created.json()["id"], leader_id)
        answer = sign(gateway, leader, created.json()["id"])
        assert answer.status_code == 200, answer.text
        signature: dict[str, Any] = answer.json()["signature"]
        return signature

    before = signed_once()
    listed = gateway.http.get("/v1/certificates", headers=auth(admin)).json()["certificates"]
    mine = next(c for c in listed if c["info"]["sha256"] == before["certificate_sha256"])
    assert (mine["role"], mine["person_id"], mine["status"]) == ("person", leader_id, "valid")
    path = f"/v1/certificates/{mine['id']}/revoke"
    # Only an administrator revokes, and says why.
    assert (
        gateway.http.post(path, headers=auth(clerk_token), json={"reason": "x"}).status_code == 403
    )
    assert gateway.http.post(path, headers=auth(admin), json={"reason": ""}).status_code == 422
    revoked = gateway.http.post(path, headers=auth(admin), json={"reason": "Lộ khóa bí mật"})
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["status"], revoked.json()["revocation_reason"]) == (
        "revoked",
        "Lộ khóa bí mật",
    )
    again = gateway.http.post(path, headers=auth(admin), json={"reason": "Lần nữa"})
    assert again.status_code == 400 and again.json()["code"] == "CERTIFICATE_REVOKED"

    # The leader's next signature is made with a new key and certificate, never the revoked one.
    after = signed_once()
    assert after["certificate_sha256"] != before["certificate_sha256"]
    listed = gateway.http.get("/v1/certificates", headers=auth(admin)).json()["certificates"]
    statuses = {c["info"]["sha256"]: c["status"] for c in listed}
    assert statuses[before["certificate_sha256"]] == "revoked"
    assert statuses[after["certificate_sha256"]] == "valid"


def test_without_images_both_signatures_are_text_and_the_agencys_sits_top_right(
    unapproved_platform: Platform, tmp_path: Path
) -> None:
    # This agency has no signature image and no seal: both signatures are written as text.
    gateway = Gateway(unapproved_platform.agencies[0].gateway_url)
    clerk, drafter, leader = (gateway.token(n) for n in ("vanthu", "chuyenvien", "lanhdao"))
    source = letter("Khong co anh chu ky")
    created = draft(gateway, drafter, source)
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    submit(gateway, drafter, document_id, me(gateway, leader))
    assert sign(gateway, leader, document_id).status_code == 200
    assert issue(gateway, clerk, document_id).status_code == 200

    def signed_twice() -> bytes | None:
        answer = gateway.http.get(
            f"/v1/outgoing-documents/{document_id}/signatures", headers=auth(clerk)
        ).json()
        if len(answer["signatures"]) < 2:
            return None
        assert answer["automatic_agency_signature"]["outcome"] == "signed"
        final = gateway.http.get(
            f"/v1/outgoing-documents/{document_id}/signed-file", headers=auth(clerk)
        )
        return final.content if len(final.content) > len(source) * 2 else None

    final = eventually(signed_twice)
    assert final is not None and final.startswith(source)
    certificates = gateway.http.get("/v1/certificates", headers=auth(clerk)).json()
    root = next(c for c in certificates["certificates"] if c["role"] == "trust_root")
    leader_found, agency_found = validate_elsewhere(final, root["pem"], tmp_path)
    assert leader_found["bottom_line"] and agency_found["bottom_line"]
    # A4/letter page: the agency's text box in the top right corner, clear of the leader's.
    agency_left, agency_bottom = agency_found["rect"][0], agency_found["rect"][1]
    assert agency_left > 300 and agency_bottom > 700
    assert leader_found["rect"][3] < agency_bottom
