"""The demo agency's dossier list (danh mục hồ sơ) for the current year, approved, so that a
dossier can be opened as soon as the platform is up. Only the embedded default asks for it
(`VANBAN_ARCHIVE_DEMO_LIST`); a year that already has a list is left as it is, and of replicas
starting together one seeds it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from vanban.archive.adapters.transaction import ArchiveTransaction
from vanban.archive.domain.dossier_list import check_entries
from vanban.platform.db import UnitOfWork

logger = logging.getLogger(__name__)

ACTOR = "system:bootstrap"

# Code, title, retention (years for 07), access, creator unit, responsible: entries a provincial
# People's Committee office keeps every year, formed by its office (the demo unit "VP").
_ENTRIES = (
    (
        "01.VP",
        "Hồ sơ xây dựng chương trình công tác năm {year} của Ủy ban nhân dân tỉnh",
        "01",
        "",
        "01",
        "VP",
        "truongphong",
    ),
    ("02.VP", "Tập lưu văn bản đi năm {year}", "03", "", "01", "VP", "vanthu"),
    ("03.VP", "Hồ sơ tiếp nhận, xử lý văn bản đến năm {year}", "06", "", "01", "VP", "vanthu"),
    ("04.VP", "Hồ sơ hội nghị tổng kết công tác năm {year}", "05", "", "01", "VP", "chuyenvien"),
    ("05.TCCB", "Hồ sơ tuyển dụng công chức năm {year}", "02", "", "02", "VP", "truongphong"),
    ("06.VP", "Hồ sơ báo cáo thống kê định kỳ năm {year}", "07", "5", "01", "VP", "chuyenvien"),
)


async def seed_demo_list(*, uow_factory: Callable[[], UnitOfWork], timezone: ZoneInfo) -> int:
    """Imports and approves the demo list for this year unless the year has one; how many
    entries were added."""
    now = datetime.now(UTC)
    year = now.astimezone(timezone).year
    rows = [
        (
            line,
            {
                "code": code,
                "title": title.format(year=year),
                "retention": retention,
                "retention_years": years,
                "access": access,
                "creator_unit": unit,
                "responsible": responsible,
            },
        )
        for line, (code, title, retention, years, access, unit, responsible) in enumerate(
            _ENTRIES, start=2
        )
    ]
    report = check_entries(rows, year=year)
    if not report.ok:  # a mistake in the table above, not in anybody's input
        raise ValueError(f"the demo dossier list is wrong: {report.problems}")
    async with ArchiveTransaction.factory(uow_factory, actor=ACTOR)() as tx:
        # Replicas starting together take turns: the first seeds, the others find its list.
        await tx.dossier_list.lock_year(year)
        if await tx.dossier_list.entries(year):
            return 0
        added = await tx.dossier_list.upsert(report.entries, by=ACTOR, at=now)
        await tx.dossier_list.approve(year, by=ACTOR, at=now)
        tx.audit(
            action="dossier_list.seed",
            resource=f"dossier-lists/{year}",
            after={"codes": [e.code for e in report.entries]},
        )
        await tx.commit()
    logger.info("seeded the demo dossier list", extra={"year": year, "entries": added})
    return added
