"""A server app (`freeze_gc=True`, as `redfed run` and redfed.asgi build it) moves what lives as
long as the process out of the garbage collector's sight: at start-up and after warm-up."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from redfed.app import create_app
from redfed.gc_tuning import WARMUP_REQUESTS


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Starts and ends with nothing frozen: a test process builds many apps, and what stays
    frozen would never be collected."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def frozen(obj: object) -> bool:
    """In the permanent generation: tracked, yet in none of the three the collector walks."""
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


async def test_a_server_app_freezes_at_start_up_and_after_warm_up(settings, db, unfrozen):
    app = create_app(settings, start_worker=False, manage_database=False, freeze_gc=True)
    async with app.test_app() as test_app:
        assert frozen(app.config["REDFED_RUNTIME"])  # alive at start-up
        made_later: list[object] = [[]]  # a long-lived object made after start-up
        client = test_app.test_client()
        for _ in range(WARMUP_REQUESTS - 1):
            assert (await client.get("/healthz")).status_code == 200
        await asyncio.sleep(0)
        assert not frozen(made_later)  # warm-up is not over
        assert (await client.get("/healthz")).status_code == 200
        await asyncio.sleep(0)  # the freeze runs after the response, on the next loop turn
        assert frozen(made_later)
        made_after_warm_up: list[object] = [[]]
        for _ in range(3):
            await client.get("/healthz")
        await asyncio.sleep(0)
        assert not frozen(made_after_warm_up)  # only once


async def test_a_test_app_freezes_nothing(settings, db, unfrozen):
    app = create_app(settings, start_worker=False, manage_database=False)
    async with app.test_app() as test_app:
        assert (await test_app.test_client().get("/healthz")).status_code == 200
        assert gc.get_freeze_count() == 0
        assert not frozen(app.config["REDFED_RUNTIME"])
