"""The local launcher (`vanban up`), the backing-server runners and the pytest fixtures."""

import os

# The launcher forks children (initdb, servers, services) while gRPC threads run in this process
# (health checks, the tests' OTLP receiver). gRPC's fork handlers then run in the child before
# exec and can kill it; the children exec at once and need none of gRPC's state.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
