"""The service started as the launcher starts it, with a wrong PIN: one clear line, no trace."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vanban.platform.caller import ensure_keypair
from vanban.signing.adapters import softhsm
from vanban.signing.adapters.token import TokenConfig


def test_a_wrong_pin_stops_the_service_with_a_clear_reason(
    token_config: TokenConfig,
    make_database: Callable[[str], str],
    nats_server: Any,
    tmp_path: Path,
) -> None:
    ensure_keypair(tmp_path / "keys")
    env = {
        **os.environ,
        "VANBAN_AGENCY_CODE": "000.00.00.H99",
        "VANBAN_KEYS_DIR": str(tmp_path / "keys"),
        "VANBAN_SIGNING_DATABASE_URL": make_database("signing_wrong_pin"),
        "VANBAN_SIGNING_TOKEN_LABEL": token_config.label,
        "VANBAN_SIGNING_TOKEN_PIN": "not-the-pin",
        "VANBAN_SIGNING_WORKERS": "0",
        softhsm.CONF_ENV: os.environ[softhsm.CONF_ENV],
        "OTEL_SDK_DISABLED": "true",
        "VANBAN_NATS_URL": nats_server.url,
    }
    started = subprocess.run(
        [sys.executable, "-m", "vanban.signing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = started.stdout + started.stderr
    assert started.returncode == 2, output
    assert "TOKEN_PIN_INCORRECT" in output
    assert "Traceback" not in output
