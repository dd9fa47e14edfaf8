"""200 concurrent registrations take arrival numbers 1..200: no gap, no duplicate."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import start_platform, stop_platform
from tests.e2e.support import Gateway, make_pdf
from vanban.launcher.platform import Platform


@pytest.fixture(scope="module")
def fresh_platform() -> Iterator[Platform]:
    # Its own platform, so that the year's register starts empty.
    platform, data_dir = start_platform(None)
    yield platform
    stop_platform(platform, data_dir)


def test_concurrent_registrations_take_gapless_unique_numbers(fresh_platform: Platform) -> None:
    gateway = Gateway(fresh_platform.agencies[0].gateway_url)
    token = gateway.token("vanthu")
    pdfs = [make_pdf(f"Cong van so {i}") for i in range(200)]

    def register(pdf: bytes) -> int:
        client = Gateway(gateway.base_url)
        response = client.register(token, pdf=pdf)
        assert response.status_code == 201, response.text
        return response.json()["arrival_number"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        numbers = list(pool.map(register, pdfs))
    assert sorted(numbers) == list(range(1, 201))
