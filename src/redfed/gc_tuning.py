"""The server process's use of the garbage collector: what lives as long as the process is
moved out of its sight once the server has started, and once more after the first requests.
"""

from __future__ import annotations

import asyncio
import gc

# By then the first pages have loaded what start-up leaves lazy: numpy with the first Explore
# page (kept out of start-up for the idle memory target), compiled templates, translations.
WARMUP_REQUESTS = 50


def freeze_long_lived() -> None:
    """Collect, then move every object alive now to the permanent generation (`gc.freeze`).

    Why: a full collection walks every tracked object, and a server holds ~80,000–100,000 of
    them that live as long as the process (modules, classes, functions, templates): 40–50 ms
    a full collection on a loaded machine, one every ~10 Explore pages, most of the HTTP
    page's p99. Frozen, a full collection walks only what requests left alive (1–3 ms).
    Cost: an object frozen here that later becomes garbage in a reference cycle is never
    freed; what is alive after start-up and warm-up stays alive, so that is little.
    """
    gc.collect()
    gc.freeze()


class WarmupFreeze:
    """Counts served requests and freezes once more after the first `after` of them."""

    def __init__(self, after: int = WARMUP_REQUESTS) -> None:
        self.left = after

    def request_done(self) -> None:
        if self.left <= 0:
            return
        self.left -= 1
        if self.left == 0:
            # After this response is on its way, not inside the request that triggered it.
            asyncio.get_running_loop().call_soon(freeze_long_lived)
