"""`vanban up` starts the platform locally; `vanban status` shows what runs and how it is;
`vanban down` stops a platform that `vanban up` started in another terminal."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from vanban.launcher.infra import InfraError
from vanban.launcher.infra.files import write_private
from vanban.launcher.infra.postgres import EXTERNAL_CLUSTERS
from vanban.launcher.infra.process import group_members, pid_alive
from vanban.launcher.platform import (
    DEMO_ACCOUNTS,
    DEMO_AGENCY_CODE,
    DEMO_AGENCY_NAME,
    AgencyProcesses,
    AgencySpec,
    Platform,
)
from vanban.platform.log import configure_console_logging

# The running launcher's pid, in <data-dir>/run/ from its start until it has stopped.
LAUNCHER_PID_FILE = "launcher.pid"


def _up(args: argparse.Namespace) -> int:
    codes = args.agency or [DEMO_AGENCY_CODE]
    specs = [
        AgencySpec(code, name=DEMO_AGENCY_NAME if code == DEMO_AGENCY_CODE else f"Cơ quan {code}")
        for code in codes
    ]
    running = _running_launcher(Path(args.data_dir).absolute() / "run")
    if running is not None:
        print(
            f"Vanban is already starting or running on {args.data_dir} (launcher pid {running});"
            " `vanban down` stops it.",
            file=sys.stderr,
        )
        return 1
    _warn_of_orphaned_clusters()
    started = time.monotonic()
    say = threading.Lock()

    def progress(stage: str) -> None:
        with say:
            print(f"  {time.monotonic() - started:6.1f} s  {stage}", flush=True)

    try:
        platform = Platform(
            Path(args.data_dir),
            specs,
            gateway_base_port=args.gateway_port,
            progress=progress,
            replicas=args.replicas,
        )
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
    # `vanban down` finds the launcher here while it starts, before run/state.json exists.
    pid_file = platform.data_dir / "run" / LAUNCHER_PID_FILE
    write_private(pid_file, f"{os.getpid()}\n")
    try:
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
    finally:
        pid_file.unlink(missing_ok=True)
    if unclean:
        print(f"Stopped, but had to kill: {', '.join(unclean)}.", file=sys.stderr, flush=True)
        return 1
    print("Stopped.", flush=True)
    return 0


def _down(args: argparse.Namespace) -> int:
    """SIGTERM to the launcher of `vanban up` on this data directory, which stops everything
    it started as on Ctrl-C; waits until it has exited."""
    run_dir = Path(args.data_dir).absolute() / "run"
    state = _read_json(run_dir / "state.json")
    pid = state.get("launcher_pid") if state else _read_pid(run_dir / LAUNCHER_PID_FILE)
    if pid is None:
        print(f"Vanban is not running (no {run_dir / 'state.json'}).")
        return 0
    if not _is_launcher(pid):
        left = _left_running(state)
        if not left:
            print(f"Vanban is not running (its launcher, pid {pid}, is gone).")
            return 0
        pids = " ".join(map(str, left))
        print(
            f"The launcher (pid {pid}) is gone but left processes running ({pids}): the next"
            f" `vanban up` on {run_dir.parent} stops them, or stop them with kill.",
            file=sys.stderr,
        )
        return 1
    print(f"Stopping Vanban (launcher pid {pid}) ...", flush=True)
    started = time.monotonic()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    except PermissionError:
        print(f"Not allowed to signal the launcher (pid {pid}).", file=sys.stderr)
        return 1
    deadline = started + args.timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            print(
                f"The launcher (pid {pid}) is still stopping after {args.timeout:.0f} s;"
                " see its terminal.",
                file=sys.stderr,
            )
            return 1
        time.sleep(0.1)
    left = _left_running(state)
    if left:
        print(
            f"The launcher exited but left processes running: {' '.join(map(str, left))}.",
            file=sys.stderr,
        )
        return 1
    print(f"Stopped in {time.monotonic() - started:.1f} s.", flush=True)
    return 0


def _running_launcher(run_dir: Path) -> int | None:
    """The pid of a live `vanban up` on this data directory, started or still starting."""
    state = _read_json(run_dir / "state.json")
    for pid in (
        state.get("launcher_pid") if state else None,
        _read_pid(run_dir / LAUNCHER_PID_FILE),
    ):
        if isinstance(pid, int) and pid != os.getpid() and _is_launcher(pid):
            return pid
    return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _is_launcher(pid: int) -> bool:
    """A live `vanban up`, not whatever process took over the pid of one that is gone."""
    if not pid_alive(pid):
        return False
    try:
        return b"vanban" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to tell by: trust the live pid


def _left_running(state: dict[str, Any] | None) -> list[int]:
    """The pids recorded in run/state.json whose process groups still have members."""
    if not state:
        return []
    pids = [info["pid"] for info in state.get("infra", {}).values()]
    pids += [s["pid"] for agency in state.get("agencies", []) for s in agency["services"].values()]
    return [pid for pid in pids if pid and group_members(pid)]


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
        if agency.replicas > 1:
            others = ", ".join(agency.gateway_urls[1:])
            lines.append(
                f"    {agency.replicas} replicas of every service; other gateways: {others}"
            )
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
    from grpc_health.v1 import health_pb2

    from vanban.platform.grpc.health import health_check

    for agency in state["agencies"]:
        print(f"agency {agency['code']}  {agency['gateway_url']}")
        for name, service in agency["services"].items():
            alive = service["pid"] is not None and pid_alive(service["pid"])
            with grpc.insecure_channel(f"127.0.0.1:{service['grpc_port']}") as channel:
                try:
                    answer = health_check(channel)(health_pb2.HealthCheckRequest(), timeout=2)
                    health = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
                except grpc.RpcError as exc:
                    health = exc.code().name
            http_port = service.get("http_port")
            if http_port:
                try:
                    url = f"http://127.0.0.1:{http_port}/readyz"
                    ready = httpx.get(url, timeout=3).status_code == 200
                except httpx.HTTPError:
                    ready = False
                health += f", http :{http_port} " + ("ready" if ready else "NOT READY")
            healthy &= alive and health.startswith("SERVING")
            print(
                f"  {name:<16} pid {service['pid']!s:<8} grpc :{service['grpc_port']:<6} {health}"
            )
    return 0 if healthy else 1


def _replicas(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 1 <= count <= 8:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of replicas from 1 to 8")
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vanban", description="Run the Vanban platform locally.")
    data_dir_help = "where all state lives (default .vanban, or $VANBAN_DATA_DIR)"
    parser.add_argument(
        "--data-dir", default=os.environ.get("VANBAN_DATA_DIR", ".vanban"), help=data_dir_help
    )
    # Also after the command (`vanban up --data-dir X`); SUPPRESS keeps the one given before it.
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("--data-dir", default=argparse.SUPPRESS, help=data_dir_help)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up",
        parents=[after],
        help="start every service and backing server; Ctrl-C (or vanban down) stops them",
    )
    up.add_argument(
        "--agency", action="append", help="agency code (mã định danh); repeat for more agencies"
    )
    up.add_argument("--gateway-port", type=int, default=8000, help="first agency's gateway port")
    up.add_argument(
        "--replicas",
        type=_replicas,
        default=1,
        metavar="N",
        help="run N processes of every service and worker side by side (default 1): the first"
        " keeps the usual ports and <svc>.log, the others get ports of their own and"
        " <svc>-2.log ...; peers spread their calls over all N (gRPC round_robin); vanban"
        " status lists each one",
    )
    commands.add_parser("status", parents=[after], help="show each process and its health")
    down = commands.add_parser(
        "down", parents=[after], help="stop the platform that vanban up runs (in another terminal)"
    )
    down.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for it to stop (180)"
    )
    args = parser.parse_args(argv)
    # Whatever the launcher and the processes it starts create (logs, spooled uploads, keys)
    # is for this user alone; other local users of the machine have no business reading it.
    os.umask(0o077)
    configure_console_logging(logging.WARNING)
    if args.command == "up":
        return _up(args)
    if args.command == "down":
        return _down(args)
    return _status(args)


if __name__ == "__main__":
    raise SystemExit(main())
