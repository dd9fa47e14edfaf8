"""`python -m vanban.directory bootstrap`: the agency and its first people, created once.

Two ways, both idempotent (running it again changes nothing):

- the demo (what the launcher runs before the first start): the agency, its demo units and six
  demo people sharing one password, from `--demo-password` or `VANBAN_DIRECTORY_DEMO_PASSWORD`;
- a real agency (`--administrator USERNAME`): the agency and its first administrator alone,
  whose password is read from standard input (`--password-stdin`, never a command line, where
  the process list would show it) and must be changed at the first sign-in. The administrator
  then makes the units and people (or imports them).

Passwords never come from code.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from vanban.directory.adapters.db.tables import platform_tables
from vanban.directory.adapters.password import Argon2PasswordHasher
from vanban.directory.adapters.transaction import DirectoryTransaction
from vanban.directory.app import MIGRATIONS
from vanban.directory.domain import service
from vanban.directory.domain.model import Agency, PersonDraft, Role
from vanban.directory.domain.ports import PasswordHasher
from vanban.directory.domain.service import UnitSeed
from vanban.directory.domain.unit import Unit
from vanban.platform.clearance import Clearance
from vanban.platform.command import Command
from vanban.platform.db import UnitOfWork, create_engine, session_factory
from vanban.platform.errors import DomainError
from vanban.platform.log import configure_logging
from vanban.platform.migrations import upgrade_async
from vanban.platform.settings import DatabaseSettingsMixin

logger = logging.getLogger(__name__)

ACTOR = "system:bootstrap"
DEMO_UNIT = "VP"  # Văn phòng

# A small real tree: the office, with the general affairs division inside it.
DEMO_UNITS = (
    UnitSeed(
        unit=Unit(code=DEMO_UNIT, name="Văn phòng", abbreviation="VP"),
        head_username="truongphong",
    ),
    UnitSeed(
        unit=Unit(code="PTH", name="Phòng Tổng hợp", abbreviation="TH", parent_code=DEMO_UNIT)
    ),
)

# The demo agency's people, one per role the first flows need; all share the demo password.
DEMO_PEOPLE = (
    PersonDraft(
        username="vanthu",
        full_name="Nguyễn Thị Văn Thư",
        position_title="Văn thư",
        roles=(Role.CLERK,),
        unit_codes=(DEMO_UNIT,),
        clearance=Clearance.CONFIDENTIAL,
    ),
    PersonDraft(
        username="lanhdao",
        full_name="Trần Văn Lãnh Đạo",
        position_title="Chủ tịch",
        roles=(Role.AGENCY_LEADER,),
        clearance=Clearance.SECRET,
    ),
    PersonDraft(
        username="truongphong",
        full_name="Lê Văn Trưởng Phòng",
        position_title="Chánh Văn phòng",
        roles=(Role.UNIT_HEAD,),
        unit_codes=(DEMO_UNIT,),
        clearance=Clearance.CONFIDENTIAL,
    ),
    PersonDraft(
        username="chuyenvien",
        full_name="Phạm Thị Chuyên Viên",
        position_title="Chuyên viên",
        roles=(Role.SPECIALIST,),
        unit_codes=(DEMO_UNIT,),
        clearance=Clearance.NONE,
    ),
    PersonDraft(
        username="luutru",
        full_name="Đỗ Thị Lưu Trữ",
        position_title="Lưu trữ viên",
        roles=(Role.ARCHIVIST,),
        unit_codes=(DEMO_UNIT,),
        clearance=Clearance.CONFIDENTIAL,
    ),
    PersonDraft(
        username="quantri",
        full_name="Hoàng Văn Quản Trị",
        position_title="Quản trị hệ thống",
        roles=(Role.ADMIN,),
        unit_codes=(DEMO_UNIT,),
        clearance=Clearance.NONE,
    ),
)


class BootstrapSettings(DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_DIRECTORY_", extra="ignore", populate_by_name=True
    )

    demo_password: SecretStr | None = None


async def run_bootstrap(
    *,
    database_url: str,
    agency: Agency,
    demo_password: str,
    people: Sequence[PersonDraft] = DEMO_PEOPLE,
    units: Sequence[UnitSeed] = DEMO_UNITS,
    hasher: PasswordHasher | None = None,
    must_change_password: bool = False,
) -> service.BootstrapReport:
    """Migrates the database, then creates whatever of the agency, units and people is
    missing."""
    await upgrade_async(database_url, MIGRATIONS)
    engine = create_engine(database_url, pool_size=1)
    try:
        uow = UnitOfWork(
            session_factory(engine),
            tables=platform_tables,
            source=f"/agencies/{agency.code}/directory",
        )
        async with uow:
            return await service.bootstrap(
                tx=DirectoryTransaction(uow, actor=ACTOR),
                hasher=hasher or Argon2PasswordHasher(),
                agency=agency,
                people=people,
                units=units,
                password=demo_password,
                now=datetime.now(UTC),
                must_change_password=must_change_password,
            )
    finally:
        await engine.dispose()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agency-code", required=True, help="mã định danh, e.g. 000.00.00.H99")
    parser.add_argument("--agency-name", required=True)
    parser.add_argument("--abbreviation", required=True, help="used in ký hiệu, e.g. UBND")
    parser.add_argument(
        "--demo-password",
        help="initial password of the demo people (default: $VANBAN_DIRECTORY_DEMO_PASSWORD)",
    )
    parser.add_argument("--database-url", help="default: $VANBAN_DIRECTORY_DATABASE_URL")
    parser.add_argument(
        "--administrator",
        metavar="USERNAME",
        help="a real agency: create only the agency and this first administrator (no demo "
        "units or people); its password must be changed at the first sign-in",
    )
    parser.add_argument(
        "--administrator-name", default="Quản trị hệ thống", help="the administrator's full name"
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the initial password from the first line of standard input",
    )


def bootstrap_command(args: argparse.Namespace) -> int:
    configure_logging("directory", os.environ.get("VANBAN_LOG_LEVEL", "INFO"))
    overrides = {"database_url": args.database_url} if args.database_url else {}
    if args.administrator and not args.password_stdin:
        raise SystemExit("--administrator takes its password from --password-stdin")
    settings = BootstrapSettings(**overrides)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = args.demo_password or (
            settings.demo_password.get_secret_value() if settings.demo_password else ""
        )
    if not password:
        raise SystemExit(
            "bootstrap needs a password: --password-stdin, --demo-password or "
            "VANBAN_DIRECTORY_DEMO_PASSWORD"
        )
    people: Sequence[PersonDraft] = DEMO_PEOPLE
    units: Sequence[UnitSeed] = DEMO_UNITS
    if args.administrator:
        people = (
            PersonDraft(
                username=args.administrator,
                full_name=args.administrator_name,
                position_title="Quản trị hệ thống",
                roles=(Role.ADMIN,),
            ),
        )
        units = ()
    configured = os.environ.get("VANBAN_AGENCY_CODE")
    if configured and configured != args.agency_code:
        raise SystemExit(
            f"--agency-code {args.agency_code} differs from VANBAN_AGENCY_CODE {configured}"
        )
    try:
        report = asyncio.run(
            run_bootstrap(
                database_url=settings.database_url,
                agency=Agency(
                    code=args.agency_code, name=args.agency_name, abbreviation=args.abbreviation
                ),
                demo_password=password,
                people=people,
                units=units,
                must_change_password=bool(args.administrator),
            )
        )
    except DomainError as exc:
        raise SystemExit(f"bootstrap refused: {exc.message}") from None
    logger.info(
        "directory bootstrap finished",
        extra={
            "agency_created": report.agency_created,
            "units_created": list(report.units_created),
            "people_created": list(report.people_created),
            "people_kept": list(report.people_kept),
        },
    )
    return 0


BOOTSTRAP = Command(
    name="bootstrap",
    help="create the agency and its first people (the demo's, or one administrator) unless "
    "they exist, then exit",
    description="Migrate the directory's database, then create the agency and either its demo "
    "units and people or (--administrator) its first administrator alone, unless they exist "
    "(running it again changes nothing).",
    add_arguments=add_arguments,
    run=bootstrap_command,
)
