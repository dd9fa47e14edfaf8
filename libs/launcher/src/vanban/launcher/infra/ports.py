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


# Ports this process has handed out, so two servers started together never get the same one.
_handed_out: set[int] = set()


def free_port(host: str = LOOPBACK, *, attempts: int = 500) -> int:
    """A port free right now, drawn below the ephemeral range.

    Asking the kernel for port 0 would return an ephemeral port, which any outgoing connection
    (a client of a server started a moment earlier) may take before our server binds it.
    """
    low, high = _BLOCK_RANGE
    for _ in range(attempts):
        port = random.randrange(low, high)
        if port not in _handed_out and is_port_free(port, host):
            _handed_out.add(port)
            return port
    raise InfraError(f"no free port found in {low}-{high}")


def free_port_block(n: int, host: str = LOOPBACK, *, attempts: int = 200) -> int:
    """The first of ``n`` consecutive ports that are all free right now."""
    if n < 1:
        raise ValueError("n must be at least 1")
    low, high = _BLOCK_RANGE
    for _ in range(attempts):
        first = random.randrange(low, high - n)
        block = range(first, first + n)
        if not _handed_out.intersection(block) and all(is_port_free(port, host) for port in block):
            _handed_out.update(block)
            return first
    raise InfraError(f"no block of {n} free consecutive ports found in {low}-{high}")
