"""How long a person's access token keeps working after their session ended, through the gateway.

usage: uv run python bench/session_end.py [--rounds 10] [--fast]

For each round: a new person signs in, an administrator deactivates them (or resets their
password, or they sign out), and the token is tried every 20 ms until the gateway refuses it.
Prints the seconds from the administrator's answer to the first refusal (min, median, max), per
kind of ending.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import vanban.launcher  # noqa: F401  (sets up the launcher before gRPC is imported)
from tests.e2e.support import Gateway
from vanban.launcher.infra import free_port
from vanban.launcher.platform import Platform

PASSWORD = "mat-khau-do-thoi-gian"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--fast", action="store_true", help="PostgreSQL without fsync")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="vanban-bench-"))
    data_dir.chmod(0o755)
    platform = Platform(
        data_dir, gateway_base_port=free_port(), env={"OTEL_SDK_DISABLED": "true"}, fast=args.fast
    )
    platform.start()
    try:
        gateway = Gateway(platform.agencies[0].gateway_url)
        admin = {"Authorization": f"Bearer {gateway.token('quantri')}"}

        def person() -> tuple[str, str, dict[str, str]]:
            username = f"do-{uuid.uuid4().hex[:8]}"
            created = gateway.http.post(
                "/v1/people",
                headers=admin,
                json={
                    "username": username,
                    "full_name": "Người Đo",
                    "roles": ["specialist"],
                    "password": PASSWORD,
                    "password_must_change": False,
                },
            )
            created.raise_for_status()
            tokens = gateway.http.post(
                "/v1/auth/token", data={"username": username, "password": PASSWORD}
            ).json()
            return created.json()["id"], tokens["access_token"], tokens

        def until_refused(token: str) -> float:
            started = time.perf_counter()
            while time.perf_counter() - started < 60:
                answer = gateway.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
                if answer.status_code == 401:
                    return time.perf_counter() - started
                time.sleep(0.02)
            raise RuntimeError("the token still works after 60 s")

        endings = {
            "deactivation": lambda pid, tokens: gateway.http.post(
                f"/v1/people/{pid}/deactivate", headers=admin
            ),
            "password reset": lambda pid, tokens: gateway.http.post(
                f"/v1/people/{pid}/password",
                headers=admin,
                json={"password": "mat-khau-khac-han", "must_change": True},
            ),
            "roles change": lambda pid, tokens: gateway.http.patch(
                f"/v1/people/{pid}", headers=admin, json={"roles": ["clerk"]}
            ),
            "sign-out": lambda pid, tokens: gateway.http.post(
                "/v1/auth/logout", data={"refresh_token": tokens["refresh_token"]}
            ),
        }
        print(f"seconds until the token is refused, {args.rounds} rounds each")
        for kind, end in endings.items():
            seconds = []
            for _ in range(args.rounds):
                person_id, token, tokens = person()
                end(person_id, tokens).raise_for_status()
                seconds.append(until_refused(token))
            print(
                f"  {kind:15} min {min(seconds):.2f}  median {statistics.median(seconds):.2f}"
                f"  max {max(seconds):.2f}"
            )
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
