"""The parent of `server.workers` server processes: it passes signals on and ends them all
when one of them ends on its own."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from typing import Any

log = logging.getLogger(__name__)


def supervise(children: list[int]) -> int:
    """Wait for the server processes; SIGINT/SIGTERM go to each of them. When one ends on its
    own, the others are stopped too: a half-running server is worse than a stopped one."""
    running = set(children)
    stopping: list[int] = []  # the signal we passed on, if any

    def forward(signum: int, _frame: Any) -> None:
        stopping.append(signum)
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = 0
    while running:
        pid, status = os.wait()
        running.discard(pid)
        child_code = os.waitstatus_to_exitcode(status)
        # A process still starting when told to stop ends by the signal itself: that is a stop.
        if child_code in (0, 130) or (stopping and -child_code in stopping):
            continue
        if code == 0:
            log.error("server.process_ended pid=%d status=%d", pid, child_code)
            code = child_code if child_code > 0 else 1
            forward(signal.SIGTERM, None)
    return code
