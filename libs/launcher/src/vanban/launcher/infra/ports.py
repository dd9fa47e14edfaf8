import random
import socket

from vanban.launcher.infra.errors import InfraError

LOOPBACK = "127.0.0.1"

# Blocks are drawn below the kernel's default ephemeral range (32768-60999) so that outgoing
# connections made later by tests cannot land on a port a server is about to take.
_BLOCK_RANGE = (15000, 32000)


def is_port_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers set SO_REUSEADDR too: a port in TIME_WAIT is usable, a listening one is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = LOOPBACK) -> int:
    """A port the kernel reports free right now (it may be taken again before it is used)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def free_port_block(n: int, host: str = LOOPBACK, *, attempts: int = 200) -> int:
    """The first of ``n`` consecutive ports that are all free right now."""
    if n < 1:
        raise ValueError("n must be at least 1")
    low, high = _BLOCK_RANGE
    for _ in range(attempts):
        first = random.randrange(low, high - n)
        if all(is_port_free(port, host) for port in range(first, first + n)):
            return first
    raise InfraError(f"no block of {n} free consecutive ports found in {low}-{high}")
