"""The one command line of every service: `serve` by default, `migrate` where there is a
database, and the commands a service adds."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from vanban.platform import command
from vanban.platform.settings import ServiceSettings

AGENCY = "000.00.00.H99"


def greet_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True)


GREET = command.Command(
    name="greet",
    help="say hello",
    add_arguments=greet_arguments,
    run=lambda args: 0 if args.name == "Lan" else 3,
)


def parse(argv: list[str], *, migrations: bool = True) -> argparse.Namespace:
    return command.parser("demo", migrations=migrations, commands=[GREET]).parse_args(argv)


def test_serve_is_the_default() -> None:
    assert parse([]).command == "serve"
    assert parse(["serve"]).command == "serve"


def test_migrate_exists_only_with_a_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse(["migrate"]).command == "migrate"
    with pytest.raises(SystemExit) as refused:
        parse(["migrate"], migrations=False)
    assert refused.value.code == 2
    assert "invalid choice: 'migrate'" in capsys.readouterr().err


def test_a_service_command_takes_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["greet", "--name", "Lan"])
    assert (args.command, args.name) == ("greet", "Lan")
    with pytest.raises(SystemExit):
        parse(["greet"])
    assert "--name" in capsys.readouterr().err


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "python -m vanban.demo" in out
    for name in ("serve", "migrate", "greet"):
        assert name in out
    assert "(the default)" in out


def test_unknown_commands_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        parse(["start"])
    assert refused.value.code == 2


class Settings(ServiceSettings):
    pass


def test_main_runs_the_service_command_without_reading_settings() -> None:
    def no_settings() -> Settings:
        raise AssertionError("a service command reads its own settings")

    assert (
        command.main("demo", no_settings, _never, commands=[GREET], argv=["greet", "--name", "Lan"])
        == 0
    )
    assert (
        command.main("demo", no_settings, _never, commands=[GREET], argv=["greet", "--name", "X"])
        == 3
    )


async def _never(settings: Settings, stop: asyncio.Event) -> None:
    raise AssertionError("not the command that was asked for")


def test_main_serves_by_default_with_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: list[Settings] = []

    async def serve(settings: Settings, stop: asyncio.Event) -> None:
        served.append(settings)

    class Telemetry:
        shut = False

        def shutdown(self) -> None:
            Telemetry.shut = True

    monkeypatch.setattr(command, "configure_logging", lambda service, level: None)
    monkeypatch.setattr(command, "setup_telemetry", lambda service, agency_code: Telemetry())
    settings = Settings(agency_code=AGENCY, keys_dir=tmp_path)

    assert command.main("demo", lambda: settings, serve, argv=[]) == 0
    assert served == [settings] and Telemetry.shut
