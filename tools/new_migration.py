"""Autogenerates an Alembic revision for one service against a scratch database.

usage: uv run python tools/new_migration.py SERVICE DATABASE_URL "message"
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from alembic import command

from vanban.platform.migrations import alembic_config


def main() -> int:
    service, url, message = sys.argv[1:4]
    app = importlib.import_module(f"vanban.{service}.app")
    migrations: Path = app.MIGRATIONS
    config = alembic_config(url, migrations)
    command.upgrade(config, "head")
    command.revision(config, message=message, autogenerate=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
