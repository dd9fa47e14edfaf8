"""The channels' service config retries reads and the one write whose repetition changes
nothing, and nothing else: a write added to the list would be sent twice when a connection
drops after the peer acted on it (the integration test shows one write that is not retried;
this holds the whole list)."""

from __future__ import annotations

import json

from vanban.platform.grpc.retry import IDEMPOTENT_METHODS, RETRY_POLICY, service_config

READS = ("Get", "List", "Stat", "Find", "Check")
# Writes that are idempotent by their contract, named one by one.
IDEMPOTENT_WRITES = {("vanban.archive.v1.ArchiveService", "ReleaseUpload")}


def test_only_reads_and_named_idempotent_writes_are_retried() -> None:
    config = json.loads(service_config())

    [method_config] = config["methodConfig"]
    assert method_config["retryPolicy"] == RETRY_POLICY
    assert method_config["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    named = {(name["service"], name["method"]) for name in method_config["name"]}
    assert len(named) == len(IDEMPOTENT_METHODS)
    writes = {(service, method) for service, method in named if not method.startswith(READS)}
    assert writes == IDEMPOTENT_WRITES
    # Every entry names one method: an entry without a method would cover a whole service.
    assert all(name.get("method") for name in method_config["name"])


def test_calls_are_spread_round_robin_only_over_a_target_of_several_replicas() -> None:
    # pick_first, the default, would send every call to one replica of a peer.
    assert json.loads(service_config(round_robin=True))["loadBalancingConfig"] == [
        {"round_robin": {}}
    ]
    assert "loadBalancingConfig" not in json.loads(service_config())
