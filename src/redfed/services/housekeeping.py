"""Hourly housekeeping: forget finished jobs and expired sessions, so the tables a server
writes on every like, delivery and login stay the size of their recent past."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from redfed.models import Job
from redfed.runtime import Runtime
from redfed.services import jobs
from redfed.services.sessions import purge_expired_sessions

log = logging.getLogger(__name__)

KIND = "housekeeping"
PERIOD = timedelta(hours=1)
# A done job's unique key refuses a replayed activity; a signature is good for at most 13 h
# (signature_checks: 12 h + 1 h of clock skew), so a week is ample, and is history enough
# for `redfed queue status` and the admin.
FINISHED_JOBS_KEPT = timedelta(days=7)
BUDGET_SECONDS = 20.0  # what is left waits for the next hour


async def ensure_scheduled(now: datetime | None = None) -> None:
    await jobs.enqueue_for_period(KIND, PERIOD, now or datetime.now(UTC))


async def run_housekeeping(now: datetime | None = None, batch: int = 5000) -> tuple[int, int]:
    """One period's purge, in batches within the budget; then queue the next period.
    Returns (jobs, sessions) deleted."""
    now = now or datetime.now(UTC)
    began, purged = time.monotonic(), 0
    while time.monotonic() - began < BUDGET_SECONDS:
        deleted = await jobs.purge_finished(FINISHED_JOBS_KEPT, batch)
        purged += deleted
        if deleted < batch:
            break
    sessions = await purge_expired_sessions()
    log.info("housekeeping jobs_purged=%d sessions_purged=%d", purged, sessions)
    await jobs.enqueue_for_period(KIND, PERIOD, now + PERIOD)
    return purged, sessions


async def handle_housekeeping(rt: Runtime, job: Job) -> None:
    """Worker entry point for `housekeeping`."""
    await run_housekeeping()
