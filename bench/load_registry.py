"""Loads a documents database with realistic Vietnamese documents, fast (ADR 0009 section 9).

usage: uv run python bench/load_registry.py [--documents 1000000]
           [--data-dir .vanban/bench-registry] [--database-url URL] [--seed 8]

Ten years of a province's registry: incoming (75%) and outgoing (25%) documents, types by their
usual frequency, subjects from Vietnamese templates with real place names, numbers counted per
register and year in arrival order, 2% confidential (their own registers), reach over 30 units
and their people, some re-sent duplicates. Search columns come from the service's own
`number_key`, `search_head` and `search_vector_text` (adapters/db/indexing.py), so the rows are what registration would have written.
Folding a row's texts dominated making it, so each fixed piece (template text, place, topic,
name, number) is folded once (`Terms`, `Template`) and those functions are given the pieces'
terms (their `terms` argument); every 50th row is also made folding its texts whole, which must
give the same columns.

How: rows are made in Python, batch by batch, and sent with COPY (asyncpg
`copy_records_to_table`) into an UNLOGGED staging table; an `INSERT … SELECT` computes
`to_tsvector` and moves the batch into `documents` while a thread makes the next batch (the
server and Python each keep a core busy). The secondary indexes and the foreign keys of
`documents` are dropped before and rebuilt after (the indexes two at a time, on two
connections), the counters set to the loaded maxima, and the table ANALYZEd. Prints seconds
and rows/s per phase; the INSERT line is the time waited for it beyond making rows. 1M documents
on a quiet 2-core machine: 161 s (making rows 95 s, COPY 16 s, INSERT waited 3 s of its 65 s,
indexes and foreign keys 46 s, ANALYZE 1 s); before these changes, about 17 minutes.

Without `--database-url` it keeps its own PostgreSQL cluster in `--data-dir` (durability off,
like the test clusters) and loads the database `registry_<documents>`, which `bench/registry.py`
then searches; the cluster is stopped at the end, its data stays.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import accumulate
from pathlib import Path
from string import Formatter
from typing import Any, ClassVar, NamedTuple
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

import vanban.documents
from vanban.documents.adapters.db.indexing import (
    VOCABULARY_OF_DOCUMENTS,
    number_key,
    search_head,
    search_vector_text,
)
from vanban.documents.domain.search_text import BODY_MAX_CHARS, search_terms
from vanban.launcher.infra import PostgresServer
from vanban.launcher.infra.files import new_password
from vanban.platform.migrations import upgrade_async

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MIGRATIONS = Path(vanban.documents.__file__).parent / "migrations"
AGENCY_CODE = "000.00.00.H99"
AGENCY_NAME = "Ủy ban nhân dân tỉnh Demo"
AGENCY_ABBREVIATION = "UBND"
BATCH = 25_000
MAINTENANCE_WORK_MEM = "1GB"  # per index build; two run at once

# (name, abbreviation, share of documents): công văn dominate, then decisions and reports.
TYPES: tuple[tuple[str, str | None, float], ...] = (
    ("Công văn", None, 0.42),
    ("Quyết định", "QĐ", 0.14),
    ("Báo cáo", "BC", 0.09),
    ("Thông báo", "TB", 0.07),
    ("Kế hoạch", "KH", 0.06),
    ("Giấy mời", "GM", 0.06),
    ("Tờ trình", "TTr", 0.05),
    ("Hướng dẫn", "HD", 0.02),
    ("Biên bản", "BB", 0.015),
    ("Nghị quyết", "NQ", 0.01),
    ("Chỉ thị", "CT", 0.008),
    ("Công điện", "CĐ", 0.007),
    ("Chương trình", "CTr", 0.006),
    ("Quy định", "QyĐ", 0.005),
    ("Đề án", "ĐA", 0.004),
    ("Phương án", "PA", 0.004),
    ("Hợp đồng", "HĐ", 0.003),
    ("Giấy giới thiệu", "GGT", 0.003),
    ("Phiếu chuyển", "PC", 0.002),
    ("Bản sao y", "SY", 0.002),
    ("Quy chế", "QC", 0.002),
    ("Dự án", "DA", 0.001),
)

# 30 units of a provincial People's Committee: code, name.
UNITS: tuple[tuple[str, str], ...] = (
    ("VP", "Văn phòng"),
    ("SNV", "Sở Nội vụ"),
    ("STC", "Sở Tài chính"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư"),
    ("STP", "Sở Tư pháp"),
    ("SCT", "Sở Công Thương"),
    ("SNN", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("SGTVT", "Sở Giao thông vận tải"),
    ("SXD", "Sở Xây dựng"),
    ("STNMT", "Sở Tài nguyên và Môi trường"),
    ("STTTT", "Sở Thông tin và Truyền thông"),
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch"),
    ("SKHCN", "Sở Khoa học và Công nghệ"),
    ("SGDDT", "Sở Giáo dục và Đào tạo"),
    ("SYT", "Sở Y tế"),
    ("TTR", "Thanh tra tỉnh"),
    ("SNGV", "Sở Ngoại vụ"),
    ("BDT", "Ban Dân tộc"),
    ("BQLKKT", "Ban Quản lý Khu kinh tế"),
    ("CAT", "Công an tỉnh"),
    ("BCHQS", "Bộ Chỉ huy Quân sự tỉnh"),
    ("TTPVHCC", "Trung tâm Phục vụ hành chính công"),
    ("PTH", "Phòng Tổng hợp"),
    ("PKT", "Phòng Kinh tế"),
    ("PNC", "Phòng Nội chính"),
    ("PVX", "Phòng Khoa giáo - Văn xã"),
    ("PQT", "Phòng Quản trị - Tài vụ"),
    ("PHCTC", "Phòng Hành chính - Tổ chức"),
    ("TTTH", "Trung tâm Tin học - Công báo"),
)
PEOPLE_PER_UNIT = 12

# Issuers of incoming documents: identifier, name, abbreviation.
ISSUERS: tuple[tuple[str, str, str], ...] = (
    ("000.00.00.G01", "Văn phòng Chính phủ", "VPCP"),
    ("000.00.00.G02", "Bộ Nội vụ", "BNV"),
    ("000.00.00.G03", "Bộ Tài chính", "BTC"),
    ("000.00.00.G04", "Bộ Kế hoạch và Đầu tư", "BKHĐT"),
    ("000.00.00.G05", "Bộ Y tế", "BYT"),
    ("000.00.00.G06", "Bộ Giáo dục và Đào tạo", "BGDĐT"),
    ("000.00.00.G07", "Bộ Tài nguyên và Môi trường", "BTNMT"),
    ("000.00.00.G08", "Bộ Thông tin và Truyền thông", "BTTTT"),
    ("000.00.00.G09", "Bộ Giao thông vận tải", "BGTVT"),
    ("000.00.00.G10", "Bộ Nông nghiệp và Phát triển nông thôn", "BNNPTNT"),
    ("000.00.00.G11", "Bộ Công Thương", "BCT"),
    ("000.00.00.G12", "Bộ Xây dựng", "BXD"),
    ("000.00.00.G13", "Bộ Tư pháp", "BTP"),
    ("000.00.00.G14", "Bộ Lao động - Thương binh và Xã hội", "BLĐTBXH"),
    ("000.00.00.G15", "Bộ Công an", "BCA"),
    ("000.00.00.H40", "Ủy ban nhân dân tỉnh Nghệ An", "UBND"),
    ("000.00.00.H41", "Ủy ban nhân dân tỉnh Hà Tĩnh", "UBND"),
    ("000.00.00.H26", "Ủy ban nhân dân tỉnh Thanh Hóa", "UBND"),
    ("000.00.00.H22", "Ủy ban nhân dân tỉnh Quảng Ninh", "UBND"),
    ("000.00.00.H15", "Ủy ban nhân dân tỉnh Lào Cai", "UBND"),
    ("000.00.00.H11", "Ủy ban nhân dân tỉnh Điện Biên", "UBND"),
    ("000.00.00.H48", "Ủy ban nhân dân thành phố Đà Nẵng", "UBND"),
    ("000.00.00.H01", "Ủy ban nhân dân thành phố Hà Nội", "UBND"),
    ("000.00.00.H79", "Ủy ban nhân dân Thành phố Hồ Chí Minh", "UBND"),
    ("000.00.00.H92", "Ủy ban nhân dân thành phố Cần Thơ", "UBND"),
    ("000.00.00.K01", "Hội đồng nhân dân tỉnh Demo", "HĐND"),
    ("000.00.00.A01", "Tỉnh ủy Demo", "TU"),
    ("000.00.01.H99", "Sở Tài chính tỉnh Demo", "STC"),
    ("000.00.02.H99", "Sở Nội vụ tỉnh Demo", "SNV"),
    ("000.00.03.H99", "Sở Y tế tỉnh Demo", "SYT"),
    ("000.00.04.H99", "Sở Giáo dục và Đào tạo tỉnh Demo", "SGDĐT"),
    ("000.00.05.H99", "Sở Xây dựng tỉnh Demo", "SXD"),
    ("000.00.06.H99", "Sở Giao thông vận tải tỉnh Demo", "SGTVT"),
    ("000.00.07.H99", "Sở Tài nguyên và Môi trường tỉnh Demo", "STNMT"),
    ("000.00.11.H99", "Ủy ban nhân dân huyện Quỳnh Lưu", "UBND"),
    ("000.00.12.H99", "Ủy ban nhân dân huyện Diễn Châu", "UBND"),
    ("000.00.13.H99", "Ủy ban nhân dân thị xã Cửa Lò", "UBND"),
    ("000.00.14.H99", "Ủy ban nhân dân huyện Đô Lương", "UBND"),
    ("000.00.15.H99", "Ủy ban nhân dân huyện Nghi Lộc", "UBND"),
    ("000.00.16.H99", "Ủy ban nhân dân huyện Yên Thành", "UBND"),
)

PLACES: tuple[str, ...] = (
    "huyện Quỳnh Lưu",
    "huyện Diễn Châu",
    "thị xã Cửa Lò",
    "huyện Đô Lương",
    "huyện Nghi Lộc",
    "huyện Yên Thành",
    "huyện Thanh Chương",
    "huyện Anh Sơn",
    "huyện Con Cuông",
    "huyện Tương Dương",
    "huyện Kỳ Sơn",
    "huyện Quế Phong",
    "huyện Quỳ Châu",
    "huyện Quỳ Hợp",
    "huyện Nghĩa Đàn",
    "thị xã Thái Hòa",
    "huyện Tân Kỳ",
    "huyện Hưng Nguyên",
    "huyện Nam Đàn",
    "thành phố Vinh",
    "thị xã Hoàng Mai",
    "xã Đồng Văn",
    "xã Mường Lống",
    "phường Hưng Dũng",
    "phường Bến Thủy",
    "xã Nghi Phong",
    "xã Diễn Thịnh",
    "xã Quỳnh Lập",
    "xã Châu Tiến",
    "xã Tam Đình",
    "khu kinh tế Đông Nam",
    "cảng Cửa Lò",
    "sân bay Vinh",
    "khu du lịch Kim Liên",
)
TOPICS: tuple[str, ...] = (
    "công tác văn thư, lưu trữ",
    "cải cách hành chính",
    "chuyển đổi số",
    "phòng, chống dịch bệnh",
    "phòng, chống thiên tai",
    "giải phóng mặt bằng",
    "bồi thường, hỗ trợ tái định cư",
    "xây dựng nông thôn mới",
    "quản lý đất đai",
    "đầu tư công",
    "thu ngân sách nhà nước",
    "quyết toán ngân sách",
    "tuyển dụng công chức",
    "đào tạo, bồi dưỡng cán bộ",
    "thi đua, khen thưởng",
    "kỷ luật cán bộ",
    "an toàn giao thông",
    "phòng cháy, chữa cháy",
    "bảo vệ môi trường",
    "quản lý chất thải rắn",
    "an toàn thực phẩm",
    "tiêm chủng mở rộng",
    "tuyển sinh đầu cấp",
    "kỳ thi tốt nghiệp trung học phổ thông",
    "chính sách người có công",
    "giảm nghèo bền vững",
    "bảo hiểm xã hội",
    "xuất khẩu lao động",
    "du lịch cộng đồng",
    "phát triển hợp tác xã",
    "trồng rừng thay thế",
    "phòng, chống tham nhũng",
    "tiếp công dân",
    "giải quyết khiếu nại, tố cáo",
    "dịch vụ công trực tuyến",
    "định danh và xác thực điện tử",
    "hạ tầng viễn thông",
    "an toàn thông tin mạng",
    "quy hoạch sử dụng đất",
    "cấp giấy chứng nhận quyền sử dụng đất",
    "sắp xếp đơn vị hành chính",
    "kiểm tra công tác quản lý nhà nước",
    "chương trình mục tiêu quốc gia",
    "nước sạch nông thôn",
    "đê điều và phòng chống lụt bão",
    "sửa chữa trụ sở làm việc",
    "mua sắm tài sản công",
)
ACTIONS: tuple[str, ...] = (
    "triển khai",
    "tăng cường",
    "hướng dẫn thực hiện",
    "báo cáo kết quả",
    "kiểm tra",
    "đôn đốc thực hiện",
    "tổng kết",
    "góp ý dự thảo",
    "phê duyệt",
    "điều chỉnh",
    "bổ sung kinh phí",
    "tổ chức hội nghị",
    "rà soát",
    "đề nghị hỗ trợ",
    "giao chỉ tiêu",
)
SUBJECTS: dict[str, tuple[str, ...]] = {
    "Công văn": (
        "V/v {action} {topic} tại {place}",
        "V/v {action} {topic} năm {year}",
        "V/v {action} {topic}",
        "V/v đề nghị cung cấp thông tin về {topic} trên địa bàn {place}",
    ),
    "Quyết định": (
        "Quyết định phê duyệt kế hoạch {topic} năm {year}",
        "Quyết định về việc {action} {topic} tại {place}",
        "Quyết định thành lập Ban chỉ đạo {topic} tỉnh",
        "Quyết định giao dự toán ngân sách cho {place} năm {year}",
    ),
    "Báo cáo": (
        "Báo cáo kết quả {topic} {period} năm {year}",
        "Báo cáo tình hình {topic} tại {place}",
    ),
    "Thông báo": (
        "Thông báo kết luận của Chủ tịch UBND tỉnh về {topic}",
        "Thông báo lịch tiếp công dân tháng {month} năm {year}",
        "Thông báo kết quả {topic} tại {place}",
    ),
    "Kế hoạch": (
        "Kế hoạch {action} {topic} năm {year}",
        "Kế hoạch {topic} giai đoạn {year}-{year5}",
    ),
    "Giấy mời": (
        "Giấy mời dự hội nghị {topic}",
        "Giấy mời họp bàn về {topic} tại {place}",
    ),
    "Tờ trình": (
        "Tờ trình đề nghị phê duyệt {topic} tại {place}",
        "Tờ trình về việc {action} {topic}",
    ),
}
GENERIC_SUBJECTS = ("{type} về {topic} tại {place}", "{type} về việc {action} {topic} năm {year}")
PERIODS = ("quý I", "quý II", "quý III", "quý IV", "6 tháng đầu", "tháng 9", "cả")
BODY = (
    "Thực hiện chỉ đạo của Ủy ban nhân dân tỉnh về {topic}, đề nghị các sở, ban, ngành và Ủy ban "
    "nhân dân các huyện, thành phố, thị xã khẩn trương {action} và báo cáo kết quả trước ngày "
    "{day}/{month}/{year}.",
    "Giao {unit} chủ trì, phối hợp với các đơn vị liên quan tham mưu {action} {topic} tại {place}, "
    "bảo đảm đúng quy định của pháp luật.",
    "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, đề nghị phản ánh về {unit} để tổng hợp, "
    "báo cáo Chủ tịch Ủy ban nhân dân tỉnh xem xét, giải quyết.",
)
SIGNERS = (
    ("Chủ tịch", "Nguyễn Văn Hùng"),
    ("Phó Chủ tịch", "Lê Thị Thu Hà"),
    ("Phó Chủ tịch", "Trần Đức Thắng"),
    ("Chánh Văn phòng", "Phạm Minh Đức"),
    ("Giám đốc", "Hoàng Thị Lan"),
    ("Phó Giám đốc", "Võ Quốc Bảo"),
    ("Bộ trưởng", "Đặng Văn Tuấn"),
    ("Thứ trưởng", "Bùi Thị Ngọc Ánh"),
    ("Trưởng ban", "Đỗ Mạnh Cường"),
)
PRIORITIES = (("normal", 0.85), ("urgent", 0.10), ("very_urgent", 0.04), ("flash", 0.01))

COLUMNS = (
    "id",
    "direction",
    "status",
    "document_type",
    "subject",
    "priority",
    "secrecy",
    "secrecy_rank",
    "code_number",
    "code_notation",
    "number_key",
    "identifier",
    "issuer_code",
    "issuer_name",
    "issued_date",
    "signer_competence",
    "signer_position",
    "signer_name",
    "register_id",
    "reg_year",
    "reg_number",
    "registered_at",
    "unit_code",
    "reach",
    "search_head",
    "search_text",
    "created_by",
    "created_at",
    "updated_at",
    "received_via",
    "issued_amount",
    "current_version",
    "issued_by",
)
STAGING_DDL = """
CREATE UNLOGGED TABLE load_staging (
    id varchar(36), direction varchar(8), status varchar(16), document_type varchar(100),
    subject varchar(500), priority varchar(16), secrecy varchar(16), secrecy_rank smallint,
    code_number varchar(11), code_notation varchar(30), number_key varchar(64),
    identifier varchar(100), issuer_code varchar(13), issuer_name varchar(200), issued_date date,
    signer_competence varchar(8), signer_position varchar(100), signer_name varchar(100),
    register_id varchar(32), reg_year int, reg_number bigint, registered_at timestamptz,
    unit_code varchar(64), reach varchar(100)[], search_head text, search_text text,
    created_by varchar(128), created_at timestamptz, updated_at timestamptz,
    received_via varchar(16), issued_amount int, current_version int, issued_by varchar(128),
    duplicate_of varchar(36)
)
"""


def unit_people(code: str) -> list[str]:
    """Person ids of a unit's people: stable, so the bench can act as one of them."""
    return [
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"vanban-bench/{code}/{i}"))
        for i in range(PEOPLE_PER_UNIT)
    ]


@dataclass(frozen=True)
class Indexed:
    """A row's search columns, made as registration makes them (the tsvector later, in SQL)."""

    number_key: str | None
    search_head: str
    search_text: str

    @classmethod
    def of(
        cls,
        *,
        subject: str,
        code_number: str | None = None,
        code_notation: str | None = None,
        issuer_name: str | None = None,
        signer_name: str | None = None,
        body: str = "",
        terms: Callable[[str], Sequence[str]] = search_terms,
    ) -> Indexed:
        head = search_head(
            subject=subject,
            code_number=code_number,
            code_notation=code_notation,
            issuer_name=issuer_name,
            signer_name=signer_name,
            terms=terms,
        )
        return cls(
            number_key(code_number, code_notation, terms=terms),
            head,
            search_vector_text(head, body, terms=terms),
        )


class Terms:
    """`search_terms` of the pieces rows are made of (template text, names, numbers), each folded
    once. A row's texts are such pieces joined at separators (spaces, punctuation), and terms never
    span a separator, so a text's terms are its pieces' terms in order: `Maker` hands them to the
    service's own `number_key`, `search_head` and `search_vector_text` (their `terms`), and
    checks every `CHECK_EVERY`th row against those functions folding the texts whole."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[str, ...]] = {}

    def __call__(self, text: str | None) -> tuple[str, ...]:
        terms = self.known.get(text or "")
        if terms is None:
            terms = self.known[text or ""] = tuple(search_terms(text or ""))
        return terms


class Template:
    """A subject or body template whose fields are set off by separators (checked here), so its
    terms are those of its literal text and of its values, in order."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pieces = [(literal, field) for literal, field, _, _ in Formatter().parse(text)]
        for i, (literal, field) in enumerate(self.pieces):
            if field is None:
                continue
            after = self.pieces[i + 1][0] if i + 1 < len(self.pieces) else None
            if (i and not literal) or after == "":
                raise ValueError(f"adjacent fields in {text!r}")
            if (literal and not _separator(literal[-1])) or (after and not _separator(after[0])):
                raise ValueError(f"a field of {text!r} is not set off by separators")

    def fill(self, terms: Terms, **values: object) -> tuple[str, tuple[str, ...]]:
        """The text with `values`, and its terms."""
        found: list[str] = []
        for literal, field in self.pieces:
            found += terms(literal)
            if field is not None:
                found += terms(str(values[field]))
        return self.text.format(**values), tuple(found)


def _separator(char: str) -> bool:
    return unicodedata.category(char)[0] in "PZ"  # punctuation or space: never inside a term


class Slot(NamedTuple):
    direction: str
    secrecy: str
    year: int
    at: datetime | None  # None: a draft
    number: int | None


def plan(documents: int, rng: random.Random, *, end_year: int) -> list[Slot]:
    """Who gets which number: per register and year, numbers in arrival order."""
    years = list(range(end_year - 9, end_year + 1))
    # A little more each year (cumulative weights, for choices).
    weights = list(accumulate(1.0 + 0.06 * i for i in range(len(years))))
    buckets: dict[tuple[str, str, int], int] = {}
    drafts = 0
    for _ in range(documents):
        direction = "incoming" if rng.random() < 0.75 else "outgoing"
        secrecy = "confidential" if rng.random() < 0.02 else "none"
        if direction == "outgoing" and rng.random() < 0.01:
            drafts += 1
            continue
        year = rng.choices(years, cum_weights=weights)[0]
        key = (direction, secrecy, year)
        buckets[key] = buckets.get(key, 0) + 1
    slots: list[Slot] = []
    for (direction, secrecy, year), count in buckets.items():
        start = datetime(year, 1, 2, tzinfo=VIETNAM).timestamp()
        # The current year only up to now: nothing is registered in the future.
        end = min(datetime(year, 12, 31, tzinfo=VIETNAM).timestamp(), time.time() - 3600)
        span = end - start
        instants = sorted(start + rng.random() * span for _ in range(count))
        for number, instant in enumerate(instants, start=1):
            at = datetime.fromtimestamp(instant, VIETNAM)
            slots.append(Slot(direction, secrecy, year, at, number))
    # Rows go in in time order, as registration writes them.
    slots.sort(key=lambda s: s.at or datetime.max.replace(tzinfo=UTC))
    for _ in range(drafts):
        secrecy = "confidential" if rng.random() < 0.02 else "none"
        slots.append(Slot("outgoing", secrecy, end_year, None, None))
    return slots


class Maker:
    CHECK_EVERY = 50  # rows whose search columns are also made by the service's functions

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.type_names = [t[0] for t in TYPES]
        self.type_weights = list(accumulate(t[2] for t in TYPES))  # cumulative, for choices
        self.abbreviations = {t[0]: t[1] for t in TYPES}
        self.priorities = [p for p, _ in PRIORITIES]
        self.priority_weights = list(accumulate(w for _, w in PRIORITIES))
        self.people = {code: unit_people(code) for code, _ in UNITS}
        self.terms = Terms()
        self.subjects = {
            name: [Template(t) for t in templates] for name, templates in SUBJECTS.items()
        }
        self.generic_subjects = [Template(t) for t in GENERIC_SUBJECTS]
        self.body = [Template(t) for t in BODY]
        self.sent: list[tuple[Any, ...]] = []  # recent incoming rows a duplicate may repeat
        self.made = 0

    def _subject(self, type_name: str, year: int) -> tuple[str, tuple[str, ...]]:
        rng = self.rng
        template = rng.choice(self.subjects.get(type_name, self.generic_subjects))
        return template.fill(
            self.terms,
            type=type_name,
            action=rng.choice(ACTIONS),
            topic=rng.choice(TOPICS),
            place=rng.choice(PLACES),
            year=year,
            year5=year + 5,
            month=rng.randrange(1, 13),
            period=rng.choice(PERIODS),
        )

    def _body(self, year: int) -> tuple[str, tuple[str, ...]]:
        rng = self.rng
        sentences = [
            sentence.fill(
                self.terms,
                topic=rng.choice(TOPICS),
                action=rng.choice(ACTIONS),
                place=rng.choice(PLACES),
                unit=rng.choice(UNITS)[1],
                day=rng.randrange(1, 29),
                month=rng.randrange(1, 13),
                year=year,
            )
            for sentence in rng.sample(self.body, rng.randrange(1, 4))
        ]
        body = " ".join(text for text, _ in sentences)
        assert len(body) <= BODY_MAX_CHARS  # else only its head would be indexed
        return body, tuple(term for _, terms in sentences for term in terms)

    def _indexed(
        self,
        subject: tuple[str, tuple[str, ...]],
        *,
        code_number: str | None = None,
        code_notation: str | None = None,
        issuer_name: str | None = None,
        signer_name: str,
        body: tuple[str, tuple[str, ...]],
    ) -> Indexed:
        """`Indexed.of` (the service's own functions), folding this row's subject and body by
        their templates' pieces and the rest by the cache; every `CHECK_EVERY`th row also
        without, which must give the same columns."""
        known = dict((subject, body))

        def terms(text: str) -> Sequence[str]:
            found = known.get(text)
            return found if found is not None else self.terms(text)

        of = partial(
            Indexed.of,
            subject=subject[0],
            code_number=code_number,
            code_notation=code_notation,
            issuer_name=issuer_name,
            signer_name=signer_name,
            body=body[0],
        )
        fields = of(terms=terms)
        self.made += 1
        if self.made % self.CHECK_EVERY == 0 and fields != (expected := of()):
            raise AssertionError(f"search columns differ: {fields} != {expected}")
        return fields

    def _reach(self, direction: str) -> tuple[str | None, list[str]]:
        rng = self.rng
        if direction == "incoming" and rng.random() < 0.08:
            return None, []  # not assigned yet: only readers of everything see it
        lead = rng.choice(UNITS)[0]
        units = [lead, *(u[0] for u in rng.sample(UNITS, rng.randrange(0, 3)))]
        reach = [f"unit:{code}" for code in dict.fromkeys(units)]
        reach += [f"person:{p}" for p in rng.sample(self.people[lead], rng.randrange(1, 3))]
        return lead, reach

    def rows(self, slots: Sequence[Slot]) -> list[tuple[Any, ...]]:
        return [self.row(slot) for slot in slots]

    def row(self, slot: Slot) -> tuple[Any, ...]:
        rng = self.rng
        document_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        type_name = rng.choices(self.type_names, cum_weights=self.type_weights)[0]
        abbreviation = self.abbreviations[type_name]
        priority = rng.choices(self.priorities, cum_weights=self.priority_weights)[0]
        rank = 1 if slot.secrecy == "confidential" else 0
        position, signer = rng.choice(SIGNERS)
        unit_code, reach = self._reach(slot.direction)
        body = self._body(slot.year) if rng.random() < 0.3 else ("", ())
        at = slot.at
        register_id = (
            None
            if at is None
            else (slot.direction if slot.secrecy == "none" else f"{slot.direction}-{slot.secrecy}")
        )
        if slot.direction == "incoming":
            assert at is not None
            if self.sent and rng.random() < 0.005:  # the same document sent again
                original = rng.choice(self.sent)
                issuer_code, issuer_name, code_number, code_notation, type_name, subject = original[
                    1:
                ]
                duplicate_of = original[0]
            else:
                issuer_code, issuer_name, issuer_abbr = rng.choice(ISSUERS)
                code_number = f"{rng.randrange(1, 3000):02d}"
                code_notation = (
                    f"{abbreviation}-{issuer_abbr}" if abbreviation else f"{issuer_abbr}-VP"
                )
                subject = self._subject(type_name, slot.year)
                duplicate_of = None
                self.sent.append(
                    (
                        document_id,
                        issuer_code,
                        issuer_name,
                        code_number,
                        code_notation,
                        type_name,
                        subject,
                    )
                )
                if len(self.sent) > 2000:
                    del self.sent[:1000]
            issued = at.date() - timedelta(days=rng.randrange(0, 10))
            fields = self._indexed(
                subject,
                code_number=code_number,
                code_notation=code_notation,
                issuer_name=issuer_name,
                signer_name=signer,
                body=body,
            )
            identifier = f"{issuer_code},{issued:%Y/%m/%d},{code_number}/{code_notation}"
            return (
                document_id,
                "incoming",
                "recalled" if rng.random() < 0.001 else "registered",
                type_name,
                subject[0],
                priority,
                slot.secrecy,
                rank,
                code_number,
                code_notation,
                fields.number_key,
                identifier,
                issuer_code,
                issuer_name,
                issued,
                None,
                position,
                signer,
                register_id,
                slot.year,
                slot.number,
                at,
                unit_code,
                reach,
                fields.search_head,
                fields.search_text,
                "clerk",
                at,
                at,
                "paper" if rng.random() < 0.2 else "electronic",
                None,
                None,
                None,
                duplicate_of,
            )
        subject = self._subject(type_name, slot.year)
        drafting = unit_code or rng.choice(UNITS)[0]
        author = rng.choice(self.people[drafting])
        reach = list(dict.fromkeys([f"unit:{drafting}", f"person:{author}", *reach]))
        created = at or datetime(slot.year, 12, 30, 9, tzinfo=VIETNAM)
        if at is None:
            fields = self._indexed(subject, signer_name=signer, body=body)
            return (
                document_id,
                "outgoing",
                "draft",
                type_name,
                subject[0],
                priority,
                slot.secrecy,
                rank,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                position,
                signer,
                None,
                None,
                None,
                None,
                drafting,
                reach,
                fields.search_head,
                fields.search_text,
                author,
                created,
                created,
                None,
                1,
                1,
                None,
                None,
            )
        assert slot.number is not None
        code_number = f"{slot.number:02d}"
        code_notation = (
            f"{abbreviation}-{AGENCY_ABBREVIATION}"
            if abbreviation
            else f"{AGENCY_ABBREVIATION}-{drafting}"
        )
        fields = self._indexed(
            subject,
            code_number=code_number,
            code_notation=code_notation,
            issuer_name=AGENCY_NAME,
            signer_name=signer,
            body=body,
        )
        status = (
            "recalled"
            if rng.random() < 0.001
            else "cancelled"
            if rng.random() < 0.002
            else "issued"
        )
        return (
            document_id,
            "outgoing",
            status,
            type_name,
            subject[0],
            priority,
            slot.secrecy,
            rank,
            code_number,
            code_notation,
            fields.number_key,
            f"{AGENCY_CODE},{at:%Y/%m/%d},{code_number}/{code_notation}",
            AGENCY_CODE,
            AGENCY_NAME,
            at.date(),
            "KT." if position.startswith("Phó") else None,
            position,
            signer,
            register_id,
            slot.year,
            slot.number,
            at,
            drafting,
            reach,
            fields.search_head,
            fields.search_text,
            author,
            at - timedelta(days=rng.randrange(1, 8)),
            at,
            None,
            rng.randrange(1, 40),
            rng.randrange(1, 4),
            "clerk",
            None,
        )


@dataclass
class LoadReport:
    documents: int
    make_seconds: float  # planning and making rows, in a thread beside the INSERTs
    copy_seconds: float
    insert_seconds: float  # waiting for the INSERTs once rows are made, and the counters
    insert_busy_seconds: float  # the INSERTs' own time, mostly overlapped with making rows
    index_seconds: float
    analyze_seconds: float

    @property
    def total_seconds(self) -> float:
        return (
            self.make_seconds
            + self.copy_seconds
            + self.insert_seconds
            + self.index_seconds
            + self.analyze_seconds
        )

    def print(self) -> None:
        n = self.documents
        print(f"documents loaded:                 {n}")
        print(
            f"make rows (Python, indexing):     {self.make_seconds:7.1f} s  {n / self.make_seconds:9.0f} rows/s"
        )
        print(
            f"COPY into staging:                {self.copy_seconds:7.1f} s  {n / self.copy_seconds:9.0f} rows/s"
        )
        print(
            f"INSERT … SELECT (to_tsvector):    {self.insert_seconds:7.1f} s  waited "
            f"({self.insert_busy_seconds:.1f} s in all, beside making rows)"
        )
        print(f"indexes and foreign keys rebuilt: {self.index_seconds:7.1f} s")
        print(f"ANALYZE:                          {self.analyze_seconds:7.1f} s")
        print(
            f"total:                            {self.total_seconds:7.1f} s  {n / self.total_seconds:9.0f} rows/s"
        )


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def migrate(database_url: str) -> None:
    """Brings the database to the documents service's schema, by the service's migrations."""
    await upgrade_async(
        database_url.replace("postgresql://", "postgresql+asyncpg://", 1), MIGRATIONS
    )


async def load(
    database_url: str, *, documents: int, seed: int = 8, end_year: int | None = None
) -> LoadReport:
    """Migrates the database if needed and adds `documents` rows to its (empty) registry."""
    await migrate(database_url)
    rng = random.Random(seed)
    end_year = end_year or datetime.now(VIETNAM).year
    connection = await asyncpg.connect(libpq(database_url))
    try:
        if await connection.fetchval("SELECT count(*) FROM documents"):
            raise SystemExit("the documents table is not empty: load into a fresh database")
        await connection.execute("DROP TABLE IF EXISTS load_staging")
        await connection.execute(STAGING_DDL)
        # Indexes other than the primary key and the unique number, and the foreign keys (a
        # lookup per inserted row): dropped, rebuilt after.
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'documents' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'documents'::regclass)"
        )
        foreign_keys = await connection.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
            "WHERE conrelid = 'documents'::regclass AND contype = 'f'"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        for key in foreign_keys:
            await connection.execute(f'ALTER TABLE documents DROP CONSTRAINT "{key["conname"]}"')
        # The vocabulary is filled once at the end, from the tsvectors (a row trigger per row
        # would add each row's words one by one).
        await connection.execute("ALTER TABLE documents DISABLE TRIGGER USER")
        began = time.perf_counter()
        slots = plan(documents, rng, end_year=end_year)
        maker = Maker(rng)
        make_seconds = time.perf_counter() - began
        copy_seconds = insert_seconds = insert_busy_seconds = 0.0
        columns = ", ".join(c for c in COLUMNS if c != "search_text")
        move = (
            f"INSERT INTO documents ({columns}, search_tsv) "
            f"SELECT {columns}, to_tsvector('simple', search_text) FROM load_staging; "
            "INSERT INTO incoming_duplicates (document_id, duplicate_of, rule, detected_at) "
            "SELECT id, duplicate_of, 'number', registered_at FROM load_staging "
            "WHERE duplicate_of IS NOT NULL; "
            "TRUNCATE load_staging"
        )

        async def moved() -> float:
            t0 = time.perf_counter()
            await connection.execute(move)
            return time.perf_counter() - t0

        # Batch by batch: while the server moves one batch from staging into `documents`
        # (to_tsvector, the heap, the two unique indexes), a thread makes the next one.
        moving: asyncio.Task[float] | None = None
        for start in range(0, len(slots), BATCH):
            t0 = time.perf_counter()
            rows = await asyncio.to_thread(maker.rows, slots[start : start + BATCH])
            t1 = time.perf_counter()
            make_seconds += t1 - t0
            if moving:
                insert_busy_seconds += await moving
            t2 = time.perf_counter()
            insert_seconds += t2 - t1
            await connection.copy_records_to_table(
                "load_staging", records=rows, columns=[*COLUMNS, "duplicate_of"]
            )
            copy_seconds += time.perf_counter() - t2
            moving = asyncio.create_task(moved())
        t0 = time.perf_counter()
        if moving:
            insert_busy_seconds += await moving
        await connection.execute(
            "INSERT INTO counters (series, year, last_number) "
            "SELECT register_id, reg_year, max(reg_number) FROM documents "
            "WHERE register_id IS NOT NULL GROUP BY register_id, reg_year "
            "ON CONFLICT (series, year) DO UPDATE SET last_number = "
            "greatest(counters.last_number, excluded.last_number)"
        )
        await connection.execute("DROP TABLE load_staging")
        insert_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        await rebuild([index["indexdef"] for index in indexes], connection, database_url)
        for key in foreign_keys:
            await connection.execute(
                f'ALTER TABLE documents ADD CONSTRAINT "{key["conname"]}" {key["definition"]}'
            )
        index_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        await connection.execute("VACUUM ANALYZE documents")
        await connection.execute("ANALYZE incoming_duplicates")
        await connection.execute("ALTER TABLE documents ENABLE TRIGGER USER")
        await connection.execute(VOCABULARY_OF_DOCUMENTS)
        analyze_seconds = time.perf_counter() - t0
    finally:
        await connection.close()
    return LoadReport(
        documents,
        make_seconds,
        copy_seconds,
        insert_seconds,
        insert_busy_seconds,
        index_seconds,
        analyze_seconds,
    )


async def rebuild(definitions: list[str], connection: asyncpg.Connection, url: str) -> None:
    """Runs the CREATE INDEX `definitions` on two connections at once (a GIN build uses one
    core), the GIN indexes first: they take longest."""
    queue = sorted(definitions, key=lambda d: "USING gin" not in d)
    second = await asyncpg.connect(libpq(url))
    try:

        async def build(on: asyncpg.Connection) -> None:
            await on.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            while queue:
                await on.execute(queue.pop(0))

        await asyncio.gather(build(connection), build(second))
    finally:
        await second.close()


class BenchCluster:
    """The bench's own PostgreSQL cluster in `data_dir`, kept between runs (password beside it)."""

    def __init__(self, data_dir: Path) -> None:
        self.base = data_dir.absolute()
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)
        secrets_file = self.base / "secrets.json"
        if secrets_file.exists():
            stored = json.loads(secrets_file.read_text())
        else:
            stored = {"superuser": new_password(), "roles": {}}
        self.stored = stored
        self.server = PostgresServer(self.base / "data", fast=True, password=stored["superuser"])
        secrets_file.write_text(json.dumps(stored))
        secrets_file.chmod(0o600)
        self.secrets_file = secrets_file

    # A database server sized for the registry it serves: the test clusters' 128 MB of shared
    # buffers hold a tenth of the 1M documents' 2 GB (table 1.2 GB, indexes 0.8 GB), and every
    # search then re-reads pages from the OS cache; 2 GB no longer held the 1M and 100k sets
    # once the yearly text indexes came. Applied with ALTER SYSTEM and a restart on start.
    SETTINGS: ClassVar[dict[str, str]] = {
        "shared_buffers": "3GB",
        "effective_cache_size": "6GB",
        "work_mem": "16MB",
    }

    def __enter__(self) -> BenchCluster:
        self.server.start()
        current = asyncio.run(self._settings())
        if current != self.SETTINGS:
            asyncio.run(self._settings(apply=True))
            self.server.stop()
            self.server.start()
        return self

    async def _settings(self, *, apply: bool = False) -> dict[str, str]:
        connection = await asyncpg.connect(self.server.libpq_dsn())
        try:
            if apply:
                for name, value in self.SETTINGS.items():
                    await connection.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            return {name: await connection.fetchval(f"SHOW {name}") for name in self.SETTINGS}
        finally:
            await connection.close()

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def database(self, name: str) -> tuple[str, bool]:
        """The URL of database `name` (as its own role), and whether it existed already."""
        roles = self.stored["roles"]
        existed = name in roles
        if not existed:
            roles[name] = new_password()
            self.secrets_file.write_text(json.dumps(self.stored))
        self.server.create_database(name, owner=name, password=roles[name])
        return self.server.libpq_dsn(name, role=name, password=roles[name]), existed

    def drop(self, name: str) -> None:
        self.server.drop_database(name)
        self.stored["roles"].pop(name, None)
        self.secrets_file.write_text(json.dumps(self.stored))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=Path(".vanban/bench-registry"))
    parser.add_argument("--database-url", help="load into this (fresh) documents database instead")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(load(args.database_url, documents=args.documents, seed=args.seed)).print()
        return 0
    with BenchCluster(args.data_dir) as cluster:
        name = f"registry_{args.documents}"
        url, existed = cluster.database(name)
        if existed:
            cluster.drop(name)
            url, _ = cluster.database(name)
        asyncio.run(load(url, documents=args.documents, seed=args.seed)).print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
