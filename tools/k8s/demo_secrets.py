"""Makes the demo overlays' secrets: `python tools/k8s/demo_secrets.py` (what `make k8s` runs).

Each demo overlay (`k8s/overlays/*/secrets.demo`, a marker file) gets a `secrets/` folder
(ignored by git) with every Secret the agency's namespace needs (`manifests.secret_keys()`):
random passwords, the services' URLs that carry them, the caller-signing and gateway keys made
as the services make them. Made once and kept: rendering again gives the same Secrets. The
axis's passwords for the demo agencies go to `k8s/axis/secrets/`, which the agencies'
exchange URLs carry. Production overlays fetch the same Secrets with External Secrets instead.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from manifests import K8S, axis_agencies, secret_keys

from vanban.launcher.platform import SERVICES
from vanban.platform.axis_names import agency_token
from vanban.platform.caller import ensure_keypair, load_or_create_private_key

AXIS_SECRETS = K8S / "axis" / "secrets"


def password() -> str:
    return secrets.token_urlsafe(24)


def agency_code(overlay: Path) -> str:
    return (overlay / "secrets.demo").read_text(encoding="utf-8").strip()


def write_env(path: Path, values: dict[str, str]) -> None:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    path.chmod(0o600)


def read_env(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def axis_users() -> dict[str, str]:
    """The demo axis's passwords (its `axis-users` Secret: `kubectl create secret generic
    axis-users --from-env-file=k8s/axis/secrets/axis-users.env`), made once: the admin, the
    provinces' leaf user and every agency of k8s/axis/agencies.txt."""
    path = AXIS_SECRETS / "axis-users.env"
    if not path.exists():
        AXIS_SECRETS.mkdir(mode=0o700, parents=True, exist_ok=True)
        users = {"ADMIN": password(), "PROVINCE": password()}
        users |= {f"AGENCY_{agency_token(code)}": password() for code in axis_agencies()}
        write_env(path, users)
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def axis_password(code: str) -> str:
    """The agency's password on the (demo) axis, the one the axis's own Secret holds."""
    try:
        return axis_users()[f"AGENCY_{agency_token(code)}"]
    except KeyError:
        raise SystemExit(f"{code} is not in k8s/axis/agencies.txt") from None


def axis_url(code: str) -> str:
    """The agency's exchange URL on the demo axis, with its account's password."""
    return f"nats://{code}:{axis_password(code)}@nats.vanban-axis.svc:4222"


def make(overlay: Path) -> None:
    code = agency_code(overlay)
    folder = overlay / "secrets"
    if (folder / "complete").exists():
        # Kept, but the exchange's axis URL follows the axis's passwords (made afresh when
        # k8s/axis/secrets was removed), and keys added since are added.
        exchange = folder / "vanban-exchange.env"
        write_env(exchange, read_env(exchange) | {"VANBAN_EXCHANGE_AXIS_URL": axis_url(code)})
        notify = folder / "vanban-notify.env"
        write_env(notify, {"VANBAN_NOTIFY_SMTP_PASSWORD": ""} | read_env(notify))
        return
    folder.mkdir(mode=0o700, exist_ok=True)
    database = {service: password() for service in SERVICES}
    nats = {service: password() for service in SERVICES}
    s3_access, s3_secret = f"vanban-{secrets.token_hex(8)}", password()
    for service in SERVICES:
        prefix = f"VANBAN_{service.upper()}_"
        values = {
            prefix + "DATABASE_URL": (
                f"postgresql+asyncpg://{service}:{database[service]}@vanban-db-rw:5432/{service}"
            ),
            "VANBAN_NATS_URL": f"nats://{service}:{nats[service]}@nats:4222",
        }
        if service == "archive":
            values |= {prefix + "S3_ACCESS_KEY": s3_access, prefix + "S3_SECRET_KEY": s3_secret}
        if service == "signing":
            values[prefix + "TOKEN_PIN"] = password()
        if service == "exchange":
            values[prefix + "AXIS_URL"] = axis_url(code)
        if service == "notify":
            # The demo names no SMTP relay: it sends no e-mail.
            values[prefix + "SMTP_PASSWORD"] = ""
        write_env(folder / f"vanban-{service}.env", values)
        write_env(
            folder / f"vanban-db-{service}.env",
            {"username": service, "password": database[service]},
        )
    write_env(folder / "vanban-nats-users.env", nats)
    # The SoftHSM2 token's security officer PIN: read only by the container that makes the
    # token (components/softhsm-signing), never by the service.
    write_env(folder / "vanban-signing-token.env", {"VANBAN_SIGNING_TOKEN_SO_PIN": password()})
    write_env(
        folder / "vanban-archive-user.env",
        {"CONSOLE_ACCESS_KEY": s3_access, "CONSOLE_SECRET_KEY": s3_secret},
    )
    write_env(
        folder / "vanban-db-backup.env",
        {"ACCESS_KEY_ID": f"backup-{secrets.token_hex(6)}", "ACCESS_SECRET_KEY": password()},
    )
    root = f"export MINIO_ROOT_USER=root-{secrets.token_hex(6)}\n"
    root += f"export MINIO_ROOT_PASSWORD={password()}\n"
    (folder / "config.env").write_text(root)
    ensure_keypair(folder)
    load_or_create_private_key(folder / "gateway-access.key")
    for path in folder.iterdir():
        path.chmod(0o600)
    made = {path.name for path in folder.iterdir()}
    for name, keys in secret_keys().items():
        if f"{name}.env" not in made and not set(keys) <= made:
            raise SystemExit(f"the demo secrets miss {name}")
    (folder / "complete").touch()


def main() -> int:
    for marker in sorted((K8S / "overlays").glob("*/secrets.demo")):
        make(marker.parent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
