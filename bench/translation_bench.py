"""Translation engine figures with tiny (copying) models: cost per miss, memory, event-loop lag.

Real-model speed is NOT measured here: no real model can be downloaded on the build machines.
Run: .venv/bin/python bench/translation_bench.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.tiny_argos import build_tiny_package  # noqa: E402

from redfed.services.translation import models_admin  # noqa: E402
from redfed.services.translation.engine import TranslationEngine  # noqa: E402

TEXT = "Sunset at the beach. Try the noodles at #night_market! Photos by @alice@example.social"
PAIRS = [("zh", "en"), ("en", "zh"), ("en", "de"), ("en", "es"), ("en", "fr"), ("en", "ja")]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def loop_lag_during(work: asyncio.Future[object]) -> float:
    """Largest delay of a 5 ms ticker while `work` runs: how blocked the event loop was."""
    worst = 0.0
    while not work.done():
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        worst = max(worst, time.perf_counter() - start - 0.005)
    return worst


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        packages = root / "translation" / "packages"
        base = rss_mb()
        for pair in PAIRS:
            models_admin.install_from_file(packages, build_tiny_package(root / "pkgs", *pair))
        engine = TranslationEngine(packages, max_workers=1)
        t0 = time.perf_counter()
        await engine.translate_texts([TEXT], "en", "zh")
        first_ms = 1000 * (time.perf_counter() - t0)
        print(f"first translation (loads model + splitter): {first_ms:.1f} ms")
        runs = 50
        t0 = time.perf_counter()
        for _ in range(runs):
            await engine.translate_texts([TEXT], "en", "zh")
        print(f"miss, one text: {1000 * (time.perf_counter() - t0) / runs:.2f} ms per translation")
        t0 = time.perf_counter()
        await engine.translate_texts([TEXT] * 20, "en", "zh")
        print(f"miss, batch of 20: {1000 * (time.perf_counter() - t0) / 20:.2f} ms per text")
        for pair in PAIRS:
            await engine.translate_texts([TEXT], *pair)
        print(
            f"memory: {base:.0f} MB before, {rss_mb():.0f} MB with {len(PAIRS)} tiny models "
            "loaded (a real model adds roughly its model.bin size)"
        )
        work = asyncio.ensure_future(
            asyncio.gather(
                *(engine.translate_texts([f"{TEXT} {i}"], "en", "zh") for i in range(50))
            )
        )
        lag = await loop_lag_during(work)
        print(f"event loop: worst ticker lag {1000 * lag:.1f} ms during 50 concurrent translations")
        engine.close()
    await cache_hit_cost()
    await served_app_under_load()
    print("NOTE: tiny copying models; real-model translation speed is unmeasured.")


async def cache_hit_cost() -> None:
    """translate_note on an already translated note: a DB lookup, the engine is not called."""
    from datetime import UTC, datetime

    from redfed.config import load_settings
    from redfed.db import close_database, migrate_database, open_database
    from redfed.models import Account, Note
    from redfed.runtime import Runtime
    from redfed.services.translation.cache import translate_note
    from redfed.services.translation.languages import get_engine

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(environ={}, overrides={"storage": {"data_dir": tmp}})
        packages = settings.translation_dir / "packages"
        models_admin.install_from_file(packages, build_tiny_package(Path(tmp) / "p", "zh", "en"))
        await migrate_database(settings.database_url)
        await close_database()
        await open_database(settings.database_url)
        author = await Account.create(username="li", uri="https://x.example/users/li")
        note = await Note.create(
            uri="https://x.example/n/1",
            account=author,
            language="zh",
            content_html="<p>你好。我是人</p>",
            published_at=datetime.now(UTC),
        )
        rt = Runtime(settings=settings)
        t0 = time.perf_counter()
        await translate_note(rt, note, "en", None)
        miss_ms = 1000 * (time.perf_counter() - t0)
        runs = 200
        t0 = time.perf_counter()
        for _ in range(runs):
            await translate_note(rt, note, "en", None)
        hit_ms = 1000 * (time.perf_counter() - t0) / runs
        print(f"translate_note (SQLite): first miss {miss_ms:.1f} ms, cache hit {hit_ms:.2f} ms")
        get_engine(rt).close()
        await close_database()


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def _page_latencies(session: object, url: str, count: int) -> list[float]:
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        async with session.get(url) as response:  # type: ignore[attr-defined]
            await response.read()
        out.append(1000 * (time.perf_counter() - t0))
    return out


async def served_app_under_load() -> None:
    """The real app under Hypercorn on loopback: p99 of an unrelated page, idle and while 50
    translations run at once through the LibreTranslate-compatible API."""
    import aiohttp
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from redfed.app import create_app
    from redfed.config import load_settings
    from redfed.db import close_database, migrate_database

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            environ={},
            overrides={
                "storage": {"data_dir": tmp},
                "worker": {"in_process": False},
                "translation": {"libretranslate_api": True, "api_keys": ["bench"]},
            },
        )
        packages = settings.translation_dir / "packages"
        models_admin.install_from_file(packages, build_tiny_package(Path(tmp) / "p", "en", "zh"))
        await migrate_database(settings.database_url)
        await close_database()
        config = Config()
        port = _free_port()
        config.bind = [f"127.0.0.1:{port}"]
        config.accesslog = None
        stop = asyncio.Event()
        app = create_app(settings)
        server = asyncio.ensure_future(serve(app, config, shutdown_trigger=stop.wait))
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            while True:  # wait until Hypercorn listens
                try:
                    await _page_latencies(session, f"{base}/healthz", 1)
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            await _page_latencies(session, f"{base}/healthz", 20)  # warm up
            idle = _p99(await _page_latencies(session, f"{base}/healthz", 300))
            body = {"q": TEXT, "source": "en", "target": "zh", "api_key": "bench"}
            await session.post(f"{base}/translate", json=body)  # load the model once
            load = asyncio.ensure_future(
                asyncio.gather(
                    *(
                        session.post(f"{base}/translate", json=body | {"q": f"{TEXT} {i}"})
                        for i in range(50)
                    )
                )
            )
            busy = _p99(await _page_latencies(session, f"{base}/healthz", 300))
            await load
        stop.set()
        await server
        verdict = "OK" if busy <= 2 * idle else "OVER the 2x budget"
        print(
            f"served app: /healthz p99 idle {idle:.2f} ms, during 50 concurrent translations "
            f"{busy:.2f} ms ({busy / idle:.1f}x, {verdict})"
        )


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    asyncio.run(main())
