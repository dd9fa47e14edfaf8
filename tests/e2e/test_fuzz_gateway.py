"""Hostile input never makes the platform fail: schemathesis drives every documented operation
with generated (valid and invalid) requests as each kind of caller, and no answer may be a 5xx.

Each caller reaches different code: anonymous requests stop at sign-in, an API key acts with
its scopes, the clerk uploads (multipart, on to the archive and documents), the leader assigns
(workflow), the administrator manages the directory. Half of the generated path ids are ids of
records that exist, so the fuzzed bodies reach the services behind the gateway (see
`fuzz_hooks.py`).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import start_platform, stop_platform
from tests.e2e.support import PASSWORD, Gateway
from vanban.launcher.platform import Platform

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
REPO = Path(__file__).resolve().parents[2]
SEED = 20261121
# Generated requests per operation: many for the operations that are the caller's own work;
# a few for the rest, which the gateway must refuse cleanly, but along a shorter path that the
# boundary cases (schemathesis' coverage phase) of the owner's run have been through already.
OWN_EXAMPLES = 30
OTHER_EXAMPLES = 5
STATEFUL_SCENARIOS = 20


@dataclass
class Run:
    caller: str
    own: str  # a regular expression for the paths of the caller's own operations
    headers: dict[str, str] = field(default_factory=dict)
    # Sequences of calls that feed one answer into the next request (create, then change).
    stateful: bool = False

    def config(self) -> str:
        return (
            "[[operations]]\n"
            f"include-path-regex = {json.dumps(self.own)}\n"
            f"generation.max-examples = {OWN_EXAMPLES}\n"
            "[[operations]]\n"
            f"exclude-path-regex = {json.dumps(self.own)}\n"
            f"generation.max-examples = {OTHER_EXAMPLES}\n"
            "phases.coverage.enabled = false\n"
            "[phases.stateful]\n"
            f"generation.max-examples = {STATEFUL_SCENARIOS}\n"
        )

    def phases(self) -> str:
        return "examples,coverage,fuzzing" + (",stateful" if self.stateful else "")


@pytest.fixture(scope="module")
def fuzzed_platform() -> Iterator[Platform]:
    # Its own platform: generated requests create and change records at random. A notification
    # stream lasts a second here: the fuzzer reads each answer to its end.
    platform, data_dir = start_platform(
        None, extra_env={"VANBAN_GATEWAY_NOTIFICATION_STREAM_MAX_SECONDS": "1"}
    )
    yield platform
    stop_platform(platform, data_dir)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def real_records(gateway: Gateway, admin: dict[str, str], clerk_token: str) -> dict[str, str]:
    """Records the fuzzer may change or delete at will; nobody signs in as them."""

    def created(path: str, body: dict[str, object]) -> dict[str, object]:
        response = gateway.http.post(path, headers=admin, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def person(username: str, role: str) -> str:
        return str(
            created(
                "/v1/people",
                {
                    "username": username,
                    "full_name": "Người Thử Nghiệm",
                    "position_title": "Chuyên viên",
                    "roles": [role],
                    "unit_codes": ["VP"],
                    "password": PASSWORD,
                    "password_must_change": False,
                },
            )["id"]
        )

    suffix = secrets.token_hex(3)
    head = person(f"fuzz-head-{suffix}", "unit_head")
    deputy = person(f"fuzz-deputy-{suffix}", "deputy_unit_head")
    now = datetime.now(UTC)
    delegation = created(
        "/v1/delegations",
        {
            "from_person_id": head,
            "to_person_id": deputy,
            "scope": ["assign"],
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "reason": "Đi công tác",
        },
    )
    unit = created(
        "/v1/units",
        {"code": f"FUZZ{suffix}".upper(), "name": "Phòng Thử nghiệm", "parent_code": "VP"},
    )
    key = created("/v1/api-keys", {"name": "Thu hồi được", "scopes": ["incoming:read"]})
    document = gateway.register(clerk_token)
    assert document.status_code == 201, document.text
    return {
        "person_id": deputy,
        "delegation_id": str(delegation["id"]),
        "code": str(unit["code"]),
        "key_id": str(key["id"]),
        "document_id": document.json()["id"],
    }


def schemathesis_run(
    url: str, run: Run, *, ids: dict[str, str], protected: dict[str, list[str]], workdir: Path
) -> str | None:
    """Fuzzes as one caller; the output when something failed, else None."""
    workdir.mkdir()
    config = workdir / "schemathesis.toml"
    config.write_text(run.config())
    argv = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--seed",
        str(SEED),
        "--phases",
        run.phases(),
        *(arg for name, value in run.headers.items() for arg in ("--header", f"{name}: {value}")),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks",
        "VANBAN_FUZZ_IDS": json.dumps(ids),
        "VANBAN_FUZZ_PROTECTED": json.dumps(protected),
    }
    started = time.monotonic()
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=900, check=False, env=env, cwd=workdir
    )
    print(f"fuzzed as {run.caller} in {time.monotonic() - started:.0f} s")
    if result.returncode == 0 and "passed" in result.stdout:
        return None
    return f"--- as {run.caller}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"


def test_no_generated_request_gets_a_server_error(
    fuzzed_platform: Platform, tmp_path: Path
) -> None:
    url = fuzzed_platform.agencies[0].gateway_url
    gateway = Gateway(url)
    # Every token is made before any fuzzing: a guessing fuzzer may lock the accounts' sign-in.
    tokens = {name: gateway.token(name) for name in ("quantri", "vanthu", "lanhdao")}
    admin, clerk, leader = (bearer(tokens[name]) for name in ("quantri", "vanthu", "lanhdao"))
    key = gateway.http.post(
        "/v1/api-keys",
        headers=admin,
        json={"name": "Hệ thống thử", "scopes": ["incoming:register", "incoming:read"]},
    )
    assert key.status_code == 201, key.text
    ids = real_records(gateway, admin, tokens["vanthu"])
    protected = {
        "person_id": [
            gateway.http.get("/v1/me", headers=bearer(token)).json()["id"]
            for token in tokens.values()
        ],
        "key_id": [key.json()["id"]],
    }
    runs = [
        Run("anonymous", "^/(v1/auth/|healthz|readyz)"),
        Run("an API key", "^/v1/incoming-documents", {"X-API-Key": key.json()["key"]}),
        Run(
            "the clerk",
            "^/v1/(incoming-documents|notifications|me|registers|document-types)",
            clerk,
            stateful=True,
        ),
        Run("the leader", "^/v1/(incoming-documents/[^/]+/assignment|delegations)", leader),
        # Last: only the administrator can change what the other callers rely on.
        Run(
            "the administrator",
            "^/v1/(agency|units|people|delegations|api-keys)",
            admin,
            stateful=True,
        ),
    ]
    failures = [
        failure
        for index, run in enumerate(runs)
        if (
            failure := schemathesis_run(
                url, run, ids=ids, protected=protected, workdir=tmp_path / str(index)
            )
        )
        is not None
    ]
    assert not failures, "\n".join(failures)
