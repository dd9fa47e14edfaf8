"""PAdES signatures with pyHanko and keys in the token, always by incremental update
(ADR 0011, 3, 4 and 7): the bytes of the signed revision are never touched, so nothing on the
page moves ("jumping letters, shifted lines" cannot happen).

The fast path: one `PKCS11Signer` per key, built once and kept; the signature container's size
fixed in advance (`bytes_reserved`), so no trial signature sizes it; the font prepared once.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
from cryptography import x509
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from PIL import Image
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.stamp import BaseStampStyle, StaticStampStyle, TextStampStyle

from vanban.platform.errors import FailedPreconditionError, InvalidArgumentError
from vanban.signing.adapters.ca import as_asn1
from vanban.signing.adapters.token import Token

logger = logging.getLogger(__name__)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# Hex characters reserved for the CMS (measured with RSA-3072, chain embedded: 6,224 for B-B,
# 12,378 for B-T with the local TSA; docs/notes/signing-research.md, 4).
RESERVED = {"B-B": 12288, "B-T": 20480}
POINTS_PER_MM = 72 / 25.4
# The leader's signature box centred on the placeholder, when the template gives no field.
LEADER_BOX = (170.0, 85.0)
# The text-only signature at the top right of page 1: its size and distance from the edges.
TEXT_BOX = (230.0, 62.0)
TEXT_MARGIN = 18.0


class Level(StrEnum):
    B_B = "B-B"
    B_T = "B-T"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a signature goes: an empty signature field the template has (`field`), or a new
    field at `box` (x1, y1, x2, y2 in PDF units from the bottom left) on `page` (from 0)."""

    page: int
    box: tuple[float, float, float, float]
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Appearance:
    """What the signature looks like: an image (the blue signature, the red seal), or text."""

    image_png: bytes | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """A key in the token and the certificates that go with it (signer first)."""

    label: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def vietnam_time(moment: datetime) -> str:
    """ISO 8601 in Vietnam time, to the second: 2026-11-29T10:05:00+07:00."""
    return moment.astimezone(VIETNAM).replace(microsecond=0).isoformat()


# What visible signatures write: ASCII, Latin-1 and Latin Extended (Vietnamese letters are in
# Latin Extended Additional, U+1EA0-U+1EFF), combining marks, and a little punctuation.
FONT_UNICODES = (
    *range(0x20, 0x7F),
    *range(0xA0, 0x250),
    *range(0x300, 0x370),
    *range(0x1EA0, 0x1F00),
    *(0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x20AB),
)


def prepare_font(source: Path, work_dir: Path | None) -> Path:
    """A copy of `source` made once for visible signatures: at 1000 units per em (pyHanko writes
    glyph widths in font units and assumes 1000, so DejaVu's 2048 would spread its letters
    apart), cut to the letters signatures write, without layout tables (text is written
    precomposed, NFC). pyHanko reads and subsets the font on every signature: the whole of
    DejaVu with its tables costs about 0.2 s each time, this copy a few milliseconds."""
    target_dir = work_dir or Path(tempfile.gettempdir())
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{source.stem}-signatures.ttf"
    if not target.exists():
        font = TTFont(source)
        if getattr(font["head"], "unitsPerEm", 1000) != 1000:
            scale_upem(font, 1000)
        options = subset.Options()
        options.layout_features = []
        options.drop_tables += ["GPOS", "GSUB", "GDEF", "FFTM"]
        options.notdef_outline = True
        cutter = subset.Subsetter(options)
        cutter.populate(unicodes=FONT_UNICODES)
        cutter.subset(font)
        # A file of its own: replicas sharing the work directory may make it at the same time,
        # and each then puts a whole font in place (the same one).
        fd, name = tempfile.mkstemp(dir=target_dir, prefix=f".{target.stem}-", suffix=".partial")
        os.close(fd)
        partial = Path(name)
        try:
            font.save(partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return target


def open_pdf(data: bytes) -> IncrementalPdfFileWriter:
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise InvalidArgumentError(
            f"the file cannot be read as a PDF: {exc}", reason="INVALID_PDF"
        ) from None
    if writer.prev.encrypted:
        raise InvalidArgumentError("the PDF is encrypted", reason="ENCRYPTED_PDF")
    return writer


def page_size(data: bytes, page: int) -> tuple[float, float]:
    document = pypdfium2.PdfDocument(data)
    try:
        if page >= len(document):
            raise InvalidArgumentError(f"the PDF has no page {page + 1}", reason="INVALID_PDF")
        width, height = document[page].get_size()
        return float(width), float(height)
    finally:
        document.close()


def empty_signature_field(data: bytes, name: str) -> Placement | None:
    """The template's empty signature field `name`, when it has one."""
    writer = open_pdf(data)
    for field_name, _value, field_ref in fields.enumerate_sig_fields(
        writer.prev, filled_status=False
    ):
        if field_name != name:
            continue
        widget = field_ref.get_object()
        rect = [float(v) for v in widget.get("/Rect", [0, 0, 0, 0])]
        page_ref = widget.get("/P")
        page = 0
        if page_ref is not None:
            for index in range(int(writer.prev.root["/Pages"]["/Count"])):
                if writer.prev.find_page_for_modification(index)[0] == page_ref.reference:
                    page = index
                    break
        return Placement(page=page, box=(rect[0], rect[1], rect[2], rect[3]), field=name)
    return None


def text_anchor(data: bytes, anchor: str) -> Placement | None:
    """A box of LEADER_BOX's size centred on the first place the text `anchor` is written."""
    document = pypdfium2.PdfDocument(data)
    try:
        for index in range(len(document)):
            text_page = document[index].get_textpage()
            searcher = text_page.search(anchor, match_case=True)
            found = searcher.get_next()
            if found is None:
                continue
            start, count = found
            boxes = [text_page.get_charbox(start + i) for i in range(count)]
            left = min(b[0] for b in boxes)
            bottom = min(b[1] for b in boxes)
            right = max(b[2] for b in boxes)
            top = max(b[3] for b in boxes)
            cx, cy = (left + right) / 2, (bottom + top) / 2
            width, height = LEADER_BOX
            return Placement(
                page=index,
                box=(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2),
            )
        return None
    finally:
        document.close()


def leader_placement(data: bytes, *, field_name: str, anchor: str) -> Placement:
    """Where the leader signs: the template's field, else its text anchor, else the right half
    of the last page's lower part (a template without a mark)."""
    found = empty_signature_field(data, field_name) or (anchor and text_anchor(data, anchor))
    if found:
        return found
    document = pypdfium2.PdfDocument(data)
    try:
        last = len(document) - 1
        width, _height = document[last].get_size()
    finally:
        document.close()
    box_w, box_h = LEADER_BOX
    return Placement(page=last, box=(width - 72 - box_w, 110.0, width - 72, 110.0 + box_h))


def seal_placement(leader: Placement, *, seal_mm: float) -> Placement:
    """The seal at real size over the left third of the leader's signature (Decree 30,
    appendix I): its right edge on the third, centred on the signature's height."""
    x1, y1, x2, y2 = leader.box
    size = seal_mm * POINTS_PER_MM
    right = x1 + (x2 - x1) / 3
    centre = (y1 + y2) / 2
    return Placement(
        page=leader.page, box=(right - size, centre - size / 2, right, centre + size / 2)
    )


def top_right_placement(data: bytes) -> Placement:
    width, height = page_size(data, 0)
    box_w, box_h = TEXT_BOX
    return Placement(
        page=0,
        box=(
            width - TEXT_MARGIN - box_w,
            height - TEXT_MARGIN - box_h,
            width - TEXT_MARGIN,
            height - TEXT_MARGIN,
        ),
    )


# A signature or seal image is drawn some 30-60 mm wide: this many pixels a side is more than
# 600 dpi for it, and keeps a huge image from going into every signed file.
IMAGE_MAX_SIDE = 1500


def check_png(data: bytes) -> bytes:
    """The PNG as signatures carry it: refused when it is not one, scaled down (transparency
    kept) when a side is over IMAGE_MAX_SIDE pixels."""
    try:
        opened = Image.open(io.BytesIO(data))
    except (OSError, ValueError):
        raise FailedPreconditionError("the image is not a PNG", reason="IMAGE_NOT_PNG") from None
    with opened as image:
        if image.format != "PNG":
            raise FailedPreconditionError("the image is not a PNG", reason="IMAGE_NOT_PNG")
        if max(image.size) <= IMAGE_MAX_SIDE:
            return data
        image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()


class PadesSigner:
    """Signs PDFs with keys in the token. One per process; safe to share between requests."""

    def __init__(
        self,
        *,
        token: Token,
        font: Path,
        timestamper: TimeStamper | None,
    ) -> None:
        self._token = token
        self.font = font
        self.timestamper = timestamper
        self._signers: dict[tuple[str, bytes], PKCS11Signer] = {}
        self._lock = asyncio.Lock()

    @property
    def level(self) -> Level:
        return Level.B_T if self.timestamper is not None else Level.B_B

    async def _signer(self, key: KeyHolder) -> PKCS11Signer:
        fingerprint = key.certificate.fingerprint(key.certificate.signature_hash_algorithm)  # type: ignore[arg-type]
        cached = self._signers.get((key.label, fingerprint))
        if cached is not None:
            return cached
        async with self._lock:
            signer = PKCS11Signer(
                self._token.session,
                key_label=key.label,
                signing_cert=as_asn1(key.certificate),
                ca_chain=[as_asn1(c) for c in key.chain],
                other_certs_to_pull=None,
                embed_roots=False,
            )
            await signer.ensure_objects_loaded()
            self._signers[(key.label, fingerprint)] = signer
            return signer

    @property
    def token(self) -> Token:
        return self._token

    def forget_all(self) -> None:
        self._signers.clear()

    def _style(self, appearance: Appearance) -> BaseStampStyle:
        if appearance.image_png is not None:
            return StaticStampStyle(
                background=PdfImage(Image.open(io.BytesIO(appearance.image_png))),
                border_width=0,
            )
        return TextStampStyle(
            # Precomposed letters: the signatures' font has no layout tables to compose marks.
            stamp_text=unicodedata.normalize("NFC", appearance.text or "%(signer)s\n%(ts)s"),
            text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(self.font), font_size=8)),
            border_width=1,
        )

    async def sign(
        self,
        data: bytes,
        *,
        key: KeyHolder,
        placement: Placement,
        appearance: Appearance,
        field_name: str,
        reason: str,
        location: str,
    ) -> bytes:
        """`data` with one more signature, added as an incremental update."""
        writer = open_pdf(data)
        existing = placement.field is not None
        meta = signers.PdfSignatureMetadata(
            field_name=placement.field if existing else field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            use_pades_lta=False,
        )
        spec = None
        if not existing:
            x1, y1, x2, y2 = placement.box
            spec = fields.SigFieldSpec(
                field_name,
                on_page=placement.page,
                box=(round(x1), round(y1), round(x2), round(y2)),
            )
        pdf_signer = signers.PdfSigner(
            meta,
            await self._signer(key),
            timestamper=self.timestamper,
            stamp_style=self._style(appearance),
            new_field_spec=spec,
        )
        try:
            out = await pdf_signer.async_sign_pdf(
                writer,
                existing_fields_only=existing,
                bytes_reserved=RESERVED[self.level],
                in_place=False,
            )
        except SigningError as exc:
            raise FailedPreconditionError(
                f"the PDF could not be signed: {exc}", reason="SIGNING_FAILED"
            ) from None
        signed: bytes = out.getvalue()
        # The incremental update leaves every byte of what was signed before as it was.
        if signed[: len(data)] != data:  # pragma: no cover - pyHanko's guarantee
            raise RuntimeError("the signed PDF does not keep the original bytes")
        return signed
