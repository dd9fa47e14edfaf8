"""Strangers get nothing for free: no body read before they are known, no flood of guesses that
keeps others out, no host name the gateway was not told to serve."""

from __future__ import annotations

import asyncio
import collections
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.support import PASSWORD, Gateway, eventually, query
from vanban.launcher.platform import Platform

MIB = 1024 * 1024
# How much the gateway's resident memory may grow while strangers send their bodies: room for
# buffers and bookkeeping of the connections, far below one parsed body (a 37 MiB JSON array
# of objects took the gateway from 130 MB to 1.2 GB before bodies waited for the caller).
MEMORY_GROWTH_LIMIT = 64 * MIB


def rss(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for process {pid}")


def json_array(size: int) -> bytes:
    """Empty objects: what costs a JSON parser the most memory per byte."""
    count = (size - 2) // 3
    return b"[" + b"{}," * (count - 1) + b"{}]"


class PeakMemory:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_anonymous_large_bodies_in_parallel_leave_the_gateways_memory_flat(
    platform: Platform, gateway: Gateway
) -> None:
    pid = platform.agencies[0].processes["gateway"].pid
    assert pid is not None
    body = json_array(37 * MIB)
    before, high_water_before = rss(pid), rss(pid, "VmHWM")

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=120) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/v1/people", content=body, headers={"Content-Type": "application/json"}
                    )
                    for _ in range(8)
                )
            )

    with PeakMemory(pid) as memory:
        answers = asyncio.run(send_all())

    assert [a.status_code for a in answers] == [401] * 8
    assert {a.json()["code"] for a in answers} == {"TOKEN_MISSING"}
    assert memory.peak - before < MEMORY_GROWTH_LIMIT, (before, memory.peak)
    # The kernel's own high-water mark catches a peak between two samples.
    assert rss(pid, "VmHWM") - max(high_water_before, before) < MEMORY_GROWTH_LIMIT


def test_a_stranger_is_answered_without_waiting_for_the_body(gateway: Gateway) -> None:
    """The client announces 37 MiB, sends 64 KiB and waits: the refusal comes anyway."""
    host, port = gateway.base_url.removeprefix("http://").split(":")

    async def status_line() -> str:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(
                f"POST /v1/people HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {37 * MIB}\r\n\r\n".encode()
                + b"[" * 65536
            )
            await writer.drain()
            # A generous bound: a gateway that waits for the body never answers at all.
            return (await asyncio.wait_for(reader.readline(), timeout=20)).decode()
        finally:
            writer.close()

    assert asyncio.run(status_line()).startswith("HTTP/1.1 401")


def test_a_signed_in_caller_sends_at_most_a_mebibyte_of_json(gateway: Gateway) -> None:
    admin = {"Authorization": f"Bearer {gateway.token('quantri')}"}
    response = gateway.http.post(
        "/v1/people",
        content=json_array(2 * MIB),
        headers={**admin, "Content-Type": "application/json"},
    )

    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "BODY_TOO_LARGE"


def test_a_flood_of_wrong_passwords_from_one_address_keeps_nobody_else_out(
    gateway: Gateway,
) -> None:
    """200 parallel wrong sign-ins keep coming from 127.0.0.3 while someone else, at
    127.0.0.2, signs in three times. How long that takes is printed, not asserted: on a shared
    2-core machine it swings with the load more than with the guard (here 1.2 s with it and
    1.5 s without it at load 4); bench/strangers.py measures it over many rounds on a quiet
    platform (p50 0.68 s, p95 0.82 s)."""

    async def scenario() -> tuple[
        httpx.Response, list[float], collections.Counter[str], list[httpx.Response]
    ]:
        stranger = httpx.AsyncClient(
            base_url=gateway.base_url,
            timeout=60,
            transport=httpx.AsyncHTTPTransport(local_address="127.0.0.3"),
            limits=httpx.Limits(max_connections=200),
        )
        person = httpx.AsyncClient(
            base_url=gateway.base_url,
            # A generous bound on one sign-in; the flood must not hold it up anywhere near.
            timeout=10,
            transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2"),
        )
        answers: collections.Counter[str] = collections.Counter()
        refusals: list[httpx.Response] = []
        waits: list[float] = []
        done = asyncio.Event()

        async def guess() -> None:
            while not done.is_set():
                response = await stranger.post(
                    "/v1/auth/token",
                    data={"username": f"khach-{uuid.uuid4().hex[:10]}", "password": "doan-bua"},
                )
                answers[f"{response.status_code} {response.json()['code']}"] += 1
                if response.status_code == 429:
                    refusals.append(response)

        async with stranger, person:
            flood = [asyncio.create_task(guess()) for _ in range(200)]
            await asyncio.sleep(0.5)
            try:
                for _ in range(3):
                    started = time.monotonic()
                    signed_in = await person.post(
                        "/v1/auth/token", data={"username": "chuyenvien", "password": PASSWORD}
                    )
                    waits.append(time.monotonic() - started)
                    if signed_in.status_code != 200:
                        break
            finally:
                done.set()
                await asyncio.gather(*flood)
        return signed_in, waits, answers, refusals

    signed_in, waits, answers, refusals = asyncio.run(scenario())

    assert signed_in.status_code == 200, signed_in.text
    shown = ", ".join(f"{w:.2f}" for w in waits)
    print(f"the bystander's three sign-ins during the flood took {shown} s")
    assert set(answers) <= {
        "401 BAD_CREDENTIALS",
        "429 TOO_MANY_SIGN_IN_ATTEMPTS",
        "429 ADDRESS_THROTTLED",
    }, answers
    # The address's own limit (30 failures) stops the guessing (one check at a time per address).
    assert answers["401 BAD_CREDENTIALS"] <= 30, answers
    assert refusals
    for refusal in refusals:
        assert refusal.headers["content-type"] == "application/problem+json"
        assert int(refusal.headers["retry-after"]) >= 1


def test_failures_of_names_nobody_has_are_forgotten_once_they_age_out(
    platform: Platform, gateway: Gateway
) -> None:
    name = f"khong-ai-{uuid.uuid4().hex[:8]}"
    stranger = Gateway(gateway.base_url, local_address="127.0.0.5")
    response = stranger.http.post("/v1/auth/token", data={"username": name, "password": "x"})
    assert response.json()["code"] == "BAD_CREDENTIALS"

    def rows() -> int:
        sql = "select count(*) from sign_in_failures where username = :name"
        return query(platform, "gateway", sql, name=name)[0][0]

    assert rows() == 1
    # Nobody tries the name again; the sweep drops it anyway (window and sweep 30 s here).
    assert eventually(lambda: rows() == 0, timeout=90, interval=1)


@pytest.mark.parametrize("host", ["evil.example", "vanban.attacker.test:8000"])
def test_a_host_name_the_gateway_does_not_serve_is_refused(gateway: Gateway, host: str) -> None:
    response = gateway.http.get("/v1/incoming-documents", headers={"Host": host})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "HOST_NOT_ALLOWED"
    # The orchestrator's probes alone are answered whatever the host (the kubelet names the
    # pod's address); nothing beside them is.
    assert gateway.http.get("/healthz", headers={"Host": host}).status_code == 200
    assert gateway.http.get("/healthz/", headers={"Host": host}).status_code == 400


def test_localhost_by_name_is_served(gateway: Gateway) -> None:
    port = gateway.base_url.rsplit(":", 1)[1]
    assert gateway.http.get("/healthz", headers={"Host": f"localhost:{port}"}).status_code == 200


def test_tokens_and_personal_answers_are_never_cached_and_files_never_sniffed(
    gateway: Gateway, clerk_token: str
) -> None:
    signed_in = gateway.http.post(
        "/v1/auth/token", data={"username": "quantri", "password": PASSWORD}
    )
    assert signed_in.headers["cache-control"] == "no-store"
    assert signed_in.headers["pragma"] == "no-cache"
    admin = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

    me = gateway.http.get("/v1/me", headers=admin)
    assert me.headers["cache-control"] == "no-store"
    created = gateway.http.post(
        "/v1/api-keys", headers=admin, json={"name": "Máy quét", "scopes": ["incoming:read"]}
    )
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"

    document = gateway.register(clerk_token).json()
    file = gateway.http.get(
        f"/v1/incoming-documents/{document['id']}/file",
        headers={"Authorization": f"Bearer {clerk_token}"},
    )
    assert file.status_code == 200
    assert file.headers["x-content-type-options"] == "nosniff"
    assert file.headers["cache-control"] == "no-store"
