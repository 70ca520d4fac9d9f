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
        print("hit (DB cache): not measured yet, the TranslationCache model does not exist")
        for pair in PAIRS:
            await engine.translate_texts([TEXT], *pair)
        print(f"memory: {base:.0f} MB before, {rss_mb():.0f} MB with {len(PAIRS)} tiny models "
              "loaded (a real model adds roughly its model.bin size)")
        work = asyncio.ensure_future(asyncio.gather(
            *(engine.translate_texts([f"{TEXT} {i}"], "en", "zh") for i in range(50))))
        lag = await loop_lag_during(work)
        print(f"event loop: worst ticker lag {1000 * lag:.1f} ms during 50 concurrent translations")
        engine.close()
    print("NOTE: tiny copying models; real-model translation speed is unmeasured.")


if __name__ == "__main__":
    asyncio.run(main())
