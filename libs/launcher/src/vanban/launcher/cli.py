"""`vanban up` starts the platform locally; `vanban status` shows what runs and how it is."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import httpx

from vanban.launcher.infra import InfraError
from vanban.launcher.infra.postgres import EXTERNAL_CLUSTERS
from vanban.launcher.infra.process import pid_alive
from vanban.launcher.platform import (
    DEMO_ACCOUNTS,
    DEMO_AGENCY_CODE,
    DEMO_AGENCY_NAME,
    AgencyProcesses,
    AgencySpec,
    Platform,
)
from vanban.platform.log import configure_console_logging


def _up(args: argparse.Namespace) -> int:
    codes = args.agency or [DEMO_AGENCY_CODE]
    specs = [
        AgencySpec(code, name=DEMO_AGENCY_NAME if code == DEMO_AGENCY_CODE else f"Cơ quan {code}")
        for code in codes
    ]
    _warn_of_orphaned_clusters()
    try:
        platform = Platform(Path(args.data_dir), specs, gateway_base_port=args.gateway_port)
    except InfraError as exc:
        print(f"Vanban could not start: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    starting = True

    def on_signal(signum: int, frame: object) -> None:
        # While starting, unwind start() itself: it stops whatever it had started.
        if starting:
            raise KeyboardInterrupt
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    print(f"Starting Vanban (data in {platform.data_dir}) ...", flush=True)
    try:
        platform.start()
    except InfraError as exc:
        print(f"\nVanban could not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopped before Vanban was up.", file=sys.stderr)
        return 130
    starting = False
    _print_welcome(platform.agencies, platform.demo_password)
    try:
        while not stop.wait(1.0):
            for agency in platform.agencies:
                for name, process in agency.processes.items():
                    if not process.is_running():
                        print(
                            f"{name} of {agency.spec.code} exited; see {process.log_path}",
                            file=sys.stderr,
                        )
                        stop.set()
    finally:
        print("\nStopping Vanban ...", flush=True)
        unclean = platform.stop()
    if unclean:
        print(f"Stopped, but had to kill: {', '.join(unclean)}.", file=sys.stderr, flush=True)
        return 1
    print("Stopped.", flush=True)
    return 0


def _warn_of_orphaned_clusters() -> None:
    """Name clusters kept outside a data directory that is gone (removed without make clean)."""
    try:
        homes = list(EXTERNAL_CLUSTERS.iterdir())
    except OSError:
        return
    for home in homes:
        try:
            origin = Path((home / "origin").read_text().strip())
        except OSError:
            continue
        if not (origin.is_symlink() and origin.readlink() == home):
            print(
                f"note: {home} holds the PostgreSQL cluster of {origin}, which no longer"
                f" refers to it; remove it with: rm -rf {home}",
                file=sys.stderr,
            )


def _print_welcome(agencies: list[AgencyProcesses], password: str) -> None:
    lines = ["", "Vanban is running."]
    for agency in agencies:
        lines.append(f"  {agency.spec.code} {agency.spec.name}: {agency.gateway_url}")
        lines.append(f"    API documentation: {agency.gateway_url}/docs")
    lines.append(f"  Demo accounts (password {password}):")
    for username, role in DEMO_ACCOUNTS:
        lines.append(f"    {username:<12} {role}")
    lines.append("  Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


def _status(args: argparse.Namespace) -> int:
    state_path = Path(args.data_dir).absolute() / "run" / "state.json"
    if not state_path.exists():
        print(f"Vanban is not running (no {state_path}).")
        return 1
    state = json.loads(state_path.read_text())
    healthy = pid_alive(state["launcher_pid"])
    print(f"launcher  pid {state['launcher_pid']:<8} {'running' if healthy else 'GONE'}")
    for name, info in state["infra"].items():
        alive = info["pid"] is not None and pid_alive(info["pid"])
        healthy &= alive
        where = info.get("port") or info.get("s3_endpoint")
        print(f"{name:<9} pid {info['pid']!s:<8} {'running' if alive else 'STOPPED':<8} {where}")
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    for agency in state["agencies"]:
        print(f"agency {agency['code']}  {agency['gateway_url']}")
        for name, service in agency["services"].items():
            alive = service["pid"] is not None and pid_alive(service["pid"])
            with grpc.insecure_channel(f"127.0.0.1:{service['grpc_port']}") as channel:
                try:
                    answer = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=2
                    )
                    health = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
                except grpc.RpcError as exc:
                    health = exc.code().name  # type: ignore[attr-defined]
            if name == "gateway":
                try:
                    ready = (
                        httpx.get(agency["gateway_url"] + "/readyz", timeout=3).status_code == 200
                    )
                except httpx.HTTPError:
                    ready = False
                health += ", http ready" if ready else ", http NOT READY"
            healthy &= alive and health.startswith("SERVING")
            print(
                f"  {name:<10} pid {service['pid']!s:<8} grpc :{service['grpc_port']:<6} {health}"
            )
    return 0 if healthy else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vanban", description="Run the Vanban platform locally.")
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("VANBAN_DATA_DIR", ".vanban"),
        help="where all state lives",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start every service and backing server; Ctrl-C stops them")
    up.add_argument(
        "--agency", action="append", help="agency code (mã định danh); repeat for more agencies"
    )
    up.add_argument("--gateway-port", type=int, default=8000, help="first agency's gateway port")
    commands.add_parser("status", help="show each process and its health")
    args = parser.parse_args(argv)
    # Whatever the launcher and the processes it starts create (logs, spooled uploads, keys)
    # is for this user alone; other local users of the machine have no business reading it.
    os.umask(0o077)
    configure_console_logging(logging.WARNING)
    if args.command == "up":
        return _up(args)
    return _status(args)


if __name__ == "__main__":
    raise SystemExit(main())
