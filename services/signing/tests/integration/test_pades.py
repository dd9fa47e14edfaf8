"""PAdES signatures from token keys: by incremental update, where Decree 30 puts them, nothing
else on the page moved, and pyHanko in another process trusts them under the agency CA."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from PIL import Image, ImageChops, ImageDraw
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields
from reportlab.pdfgen import canvas

from vanban.signing.adapters import pades, tsa
from vanban.signing.adapters.ca import DevelopmentCa
from vanban.signing.adapters.token import Token

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DPI = 72  # one pixel per PDF point: boxes map to pixels directly


def letter(*, anchor: str = "", field: str = "") -> bytes:
    """A one-page decision with its title, the signer's place and name, as a template makes."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.drawString(72, 760, "UY BAN NHAN DAN TINH DEMO")
    page.drawString(72, 740, "So: 05/QD-UBND")
    for line in range(20):
        page.drawString(72, 680 - 14 * line, f"Dieu {line + 1}. Noi dung quy dinh thu {line + 1}.")
    page.drawString(360, 230, "CHU TICH")
    if anchor:
        page.drawString(380, 170, anchor)
    page.drawString(350, 100, "Nguyen Van An")
    page.showPage()
    page.save()
    data = buffer.getvalue()
    if field:
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        fields.append_signature_field(
            writer, fields.SigFieldSpec(field, on_page=0, box=(320, 130, 500, 215))
        )
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    return data


def png(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((20, 20, 380, 180), outline=(*colour, 255), width=14)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def signer(
    token: Token, dev_ca: DevelopmentCa, tmp_path_factory: pytest.TempPathFactory
) -> pades.PadesSigner:
    if not token.has_key(tsa.TSA_KEY_LABEL):
        token.generate_rsa(tsa.TSA_KEY_LABEL)
    certificate = dev_ca.issue_timestamping(
        token.public_key(tsa.TSA_KEY_LABEL), agency_name="UBND tỉnh Demo"
    )
    stamper = tsa.TokenTimeStamper(token=token, certificate=certificate, chain=(dev_ca.root,))
    font = pades.prepare_font(FONT, tmp_path_factory.mktemp("font"))
    return pades.PadesSigner(token=token, font=font, timestamper=stamper)


@pytest.fixture(scope="module")
def leader(token: Token, dev_ca: DevelopmentCa) -> pades.KeyHolder:
    label = f"person-{uuid.uuid4()}"
    public = token.generate_rsa(label)
    certificate = dev_ca.issue_person(
        public, full_name="Nguyễn Văn An", person_id=label, agency_name="UBND tỉnh Demo"
    )
    return pades.KeyHolder(label, certificate, (dev_ca.root,))


@pytest.fixture(scope="module")
def organisation(token: Token, dev_ca: DevelopmentCa) -> pades.KeyHolder:
    label = f"org-{uuid.uuid4().hex[:8]}"
    public = token.generate_rsa(label)
    certificate = dev_ca.issue_organisation(
        public, agency_name="Ủy ban nhân dân tỉnh Demo", agency_code="000.00.00.H99"
    )
    return pades.KeyHolder(label, certificate, (dev_ca.root,))


def render(data: bytes, tmp: Path, name: str) -> Image.Image:
    source = tmp / f"{name}.pdf"
    source.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", "-singlefile", str(source), str(tmp / name)],
        check=True,
        capture_output=True,
    )
    return Image.open(tmp / f"{name}.png").convert("RGB")


def outside(image: Image.Image, boxes: list[tuple[float, float, float, float]]) -> Image.Image:
    """The page with the signature boxes (PDF points from the bottom left) painted white."""
    masked = image.copy()
    draw = ImageDraw.Draw(masked)
    height = image.height
    for x1, y1, x2, y2 in boxes:
        draw.rectangle((x1 - 2, height - y2 - 2, x2 + 2, height - y1 + 2), fill="white")
    return masked


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
    out.append({
        "field": sig.field_name, "intact": status.intact, "valid": status.valid,
        "trusted": status.trusted, "bottom_line": status.bottom_line,
        "signer": status.signing_cert.subject.human_friendly,
        "timestamp": status.timestamp_validity is not None and status.timestamp_validity.trusted,
        "coverage": status.coverage.name, "modification": status.modification_level.name
        if status.modification_level is not None else None,
    })
print(json.dumps(out))
"""


def validate_elsewhere(data: bytes, root_pem: bytes, tmp: Path) -> list[dict[str, object]]:
    (tmp / "signed.pdf").write_bytes(data)
    (tmp / "root.pem").write_bytes(root_pem)
    done = subprocess.run(
        [sys.executable, "-c", VALIDATE, str(tmp / "signed.pdf"), str(tmp / "root.pem")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: list[dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def test_leader_then_agency_validate_elsewhere_and_nothing_on_the_page_moves(
    signer: pades.PadesSigner,
    leader: pades.KeyHolder,
    organisation: pades.KeyHolder,
    dev_ca: DevelopmentCa,
    tmp_path: Path,
) -> None:
    source = letter(anchor="{{chu_ky}}")
    placement = pades.leader_placement(source, field_name="LanhDao", anchor="{{chu_ky}}")
    # Centred on the anchor the template wrote between the title and the name.
    x1, y1, x2, y2 = placement.box
    assert placement.field is None and placement.page == 0
    assert x1 < 380 < x2 and y1 < 172 < y2 and y2 < 230 and y1 > 100
    once = await signer.sign(
        source,
        key=leader,
        placement=placement,
        appearance=pades.Appearance(image_png=png((20, 40, 200))),
        field_name="LanhDao",
        reason="Ký ban hành",
        location="Demo",
    )
    seal = pades.seal_placement(placement, seal_mm=36)
    twice = await signer.sign(
        once,
        key=organisation,
        placement=seal,
        appearance=pades.Appearance(image_png=png((220, 20, 20))),
        field_name="CoQuan",
        reason="Ký số của cơ quan",
        location="Demo",
    )
    # Incremental updates: each signed revision is a prefix of what follows.
    assert once.startswith(source) and twice.startswith(once)

    root_pem = dev_ca.root.public_bytes(serialization.Encoding.PEM)
    found = validate_elsewhere(twice, root_pem, tmp_path)
    assert [f["field"] for f in found] == ["LanhDao", "CoQuan"]
    for one in found:
        assert (one["intact"], one["valid"], one["trusted"], one["bottom_line"]) == (
            True,
            True,
            True,
            True,
        ), one
        assert one["timestamp"] is True
    assert "Nguyễn Văn An" in str(found[0]["signer"])
    assert found[0]["modification"] == "FORM_FILLING"

    before = render(source, tmp_path, "before")
    after = render(twice, tmp_path, "after")
    # The signatures drew something, inside their boxes...
    assert ImageChops.difference(before, after).getbbox() is not None
    # ... and nothing else on the page changed by a single pixel.
    diff = ImageChops.difference(
        outside(before, [placement.box, seal.box]), outside(after, [placement.box, seal.box])
    )
    assert diff.getbbox() is None


def test_the_seal_covers_the_left_third_of_the_leader_signature() -> None:
    leader_box = pades.Placement(page=2, box=(300.0, 100.0, 480.0, 190.0))
    seal = pades.seal_placement(leader_box, seal_mm=36)
    sx1, sy1, sx2, sy2 = seal.box
    size = 36 * 72 / 25.4
    assert seal.page == 2
    assert sx2 == pytest.approx(300 + 180 / 3)
    assert sx2 - sx1 == pytest.approx(size) and sy2 - sy1 == pytest.approx(size)
    assert (sy1 + sy2) / 2 == pytest.approx(145)


async def test_a_template_field_is_signed_where_it_is(
    signer: pades.PadesSigner, leader: pades.KeyHolder, tmp_path: Path
) -> None:
    source = letter(field="LanhDao")
    placement = pades.leader_placement(source, field_name="LanhDao", anchor="{{chu_ky}}")
    assert (placement.field, placement.page) == ("LanhDao", 0)
    assert placement.box == pytest.approx((320, 130, 500, 215))
    signed = await signer.sign(
        source,
        key=leader,
        placement=placement,
        appearance=pades.Appearance(image_png=png((20, 40, 200))),
        field_name="ignored",
        reason="Ký",
        location="Demo",
    )
    assert signed.startswith(source)
    # No second field was made: the template's own one now carries the signature.
    reader = IncrementalPdfFileWriter(io.BytesIO(signed)).prev
    names = [name for name, value, _ref in fields.enumerate_sig_fields(reader)]
    assert names == ["LanhDao"]
    filled = [name for name, _v, _r in fields.enumerate_sig_fields(reader, filled_status=True)]
    assert filled == ["LanhDao"]


async def test_a_text_only_signature_sits_at_the_top_right_in_vietnam_time(
    signer: pades.PadesSigner, organisation: pades.KeyHolder, tmp_path: Path
) -> None:
    source = letter()
    placement = pades.top_right_placement(source)
    width, height = pades.page_size(source, 0)
    x1, y1, x2, y2 = placement.box
    assert x2 == pytest.approx(width - pades.TEXT_MARGIN) and y2 == pytest.approx(
        height - pades.TEXT_MARGIN
    )
    assert x1 > width / 2 and y1 > height * 3 / 4
    moment = datetime(2026, 11, 29, 3, 4, 5, tzinfo=UTC)
    assert pades.vietnam_time(moment) == "2026-11-29T10:04:05+07:00"
    text = f"Số: 05/QĐ-UBND\nThời gian ký: {pades.vietnam_time(moment)}"
    signed = await signer.sign(
        source,
        key=organisation,
        placement=placement,
        appearance=pades.Appearance(text=text),
        field_name="BanSao",
        reason="Sao y",
        location="Demo",
    )
    before = render(source, tmp_path, "text-before")
    after = render(signed, tmp_path, "text-after")
    changed = ImageChops.difference(before, after).getbbox()
    assert changed is not None
    # Everything the stamp drew is inside its box at the top right.
    left, top, right, bottom = changed
    assert (
        left >= x1 - 2 and right <= x2 + 2 and top >= height - y2 - 2 and bottom <= height - y1 + 2
    )
    # Something of a width of text was drawn there, not an empty frame.
    assert right - left > 100 and bottom - top > 15


def test_a_huge_image_is_scaled_down_and_keeps_its_transparency() -> None:
    image = Image.new("RGBA", (6000, 3000), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((100, 100, 5900, 2900), outline=(220, 20, 20, 255), width=40)
    out = io.BytesIO()
    image.save(out, "PNG")
    kept = pades.check_png(out.getvalue())
    with Image.open(io.BytesIO(kept)) as scaled:
        assert scaled.size == (1500, 750) and scaled.mode == "RGBA"
        assert scaled.getpixel((0, 0)) == (0, 0, 0, 0)
    small = png((20, 40, 200))
    assert pades.check_png(small) == small
    with pytest.raises(Exception, match="not a PNG"):
        pades.check_png(b"GIF89a" + b"\0" * 40)
