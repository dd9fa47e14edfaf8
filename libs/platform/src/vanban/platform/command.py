"""`python -m vanban.<svc> [serve | migrate | ...]`: the one command line of every service.

`serve` is the default, so `python -m vanban.<svc>` runs the service as the launcher and the
images start it. A service with a database also has `migrate`; a service adds commands of its
own (the directory's `bootstrap`) as `Command`s. Settings are read from the environment only
for the command that runs, so `--help` works anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from vanban.platform.log import configure_logging
from vanban.platform.migrations import upgrade
from vanban.platform.runtime import run
from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings
from vanban.platform.telemetry import setup_telemetry

S = TypeVar("S", bound=ServiceSettings)


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    return None


@dataclass(frozen=True)
class Command:
    """A sub-command of one service: `add_arguments` declares its options on its parser,
    `run` does the work with the parsed arguments and returns the exit status."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    description: str | None = None


def parser(
    service: str, *, migrations: bool, commands: Sequence[Command] = ()
) -> argparse.ArgumentParser:
    """The command line of `service`; each sub-command's parser sets `command` to its name."""
    root = argparse.ArgumentParser(
        prog=f"python -m vanban.{service}",
        description=(
            f"The {service} service of one agency. Settings come from the environment "
            f"(VANBAN_{service.upper()}_*, and VANBAN_AGENCY_CODE, VANBAN_KEYS_DIR, ... shared "
            "by every service)."
        ),
    )
    root.set_defaults(command="serve")
    sub = root.add_subparsers(title="commands", metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="run the service until SIGTERM or SIGINT (the default)",
        description=f"Run {service}: migrate its database if it has one, then answer until "
        "SIGTERM or SIGINT, and stop in order within its shutdown grace.",
    )
    serve.set_defaults(command="serve")
    if migrations:
        migrate = sub.add_parser(
            "migrate",
            help="bring the database to the newest migration, then exit",
            description=f"Apply {service}'s pending database migrations and exit (serve does "
            "it too, at start).",
        )
        migrate.set_defaults(command="migrate")
    for command in commands:
        own = sub.add_parser(
            command.name, help=command.help, description=command.description or command.help
        )
        command.add_arguments(own)
        own.set_defaults(command=command.name)
    return root


def main(
    service: str,
    settings: Callable[[], S],
    serve: Callable[[S, asyncio.Event], Awaitable[None]],
    *,
    migrations: Path | None = None,
    commands: Sequence[Command] = (),
    argv: Sequence[str] | None = None,
) -> int:
    """Parses `argv` (the process's arguments when None) and runs the command; returns its
    exit status."""
    args = parser(service, migrations=migrations is not None, commands=commands).parse_args(argv)
    for command in commands:
        if args.command == command.name:
            return command.run(args)
    configured = settings()
    configure_logging(service, configured.log_level)
    if args.command == "migrate":
        if migrations is None or not isinstance(configured, DatabaseSettingsMixin):
            raise SystemExit(f"{service} has no database")
        upgrade(configured.database_url, migrations)
        return 0
    telemetry = setup_telemetry(service, agency_code=configured.agency_code)
    try:
        run(lambda stop: serve(configured, stop))
    finally:
        telemetry.shutdown()
    return 0
