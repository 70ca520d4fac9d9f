"""The job loop: claim due jobs, run their handler, record the outcome.

This is the one place with a broad `except Exception`: a failing job is recorded and retried,
it never stops the loop. Handlers signal their intent with `RetryLater` and `GiveUp`
(defined in services/jobs.py so that services can raise them).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping

from redfed.models import Job
from redfed.runtime import Runtime
from redfed.services import jobs
from redfed.services.jobs import GiveUp, RetryLater

__all__ = ["GiveUp", "Handler", "RetryLater", "Worker"]

log = logging.getLogger(__name__)

Handler = Callable[[Runtime, Job], Awaitable[None]]


class Worker:
    def __init__(self, runtime: Runtime, handlers: Mapping[str, Handler], *, concurrency: int = 8):
        self.runtime = runtime
        self.handlers = dict(handlers)
        self.concurrency = concurrency
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:64]
        self._stopping = asyncio.Event()

    async def run_once(self) -> int:
        """Claim and run one batch of due jobs; returns how many ran."""
        batch = await jobs.claim_due_jobs(self.worker_id, self.concurrency * 4, list(self.handlers))
        if not batch:
            return 0
        semaphore = asyncio.Semaphore(self.concurrency)

        async def run(job: Job) -> None:
            async with semaphore:
                await self._run_job(job)

        await asyncio.gather(*(run(job) for job in batch))
        return len(batch)

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Run due jobs until none is left (jobs enqueued by jobs included). For tests and CLI."""
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_once()
            if ran == 0:
                return total
            total += ran
        raise RuntimeError("worker.run_until_idle: still busy after max_rounds (a job loop?)")

    async def run_forever(self) -> None:
        """Poll for jobs until stop() is called; a finished batch is never cut short."""
        poll = self.runtime.settings.worker.poll_seconds
        log.info("worker.started id=%s", self.worker_id)
        while not self._stopping.is_set():
            try:
                ran = await self.run_once()
            except Exception:  # the database may be briefly away: keep the loop alive
                log.exception("worker.claim_failed")
                ran = 0
            if ran == 0:
                await self._sleep(poll)
        log.info("worker.stopped id=%s", self.worker_id)

    def stop(self) -> None:
        self._stopping.set()
        self.runtime.jobs_waiting.set()

    async def _sleep(self, seconds: float) -> None:
        waiting = self.runtime.jobs_waiting
        try:
            await asyncio.wait_for(waiting.wait(), timeout=seconds)
        except TimeoutError:
            pass
        waiting.clear()

    async def _run_job(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            await jobs.mark_dead(job, f"no handler for job kind {job.kind!r}")
            return
        try:
            await handler(self.runtime, job)
        except RetryLater as exc:
            await jobs.schedule_retry(job, str(exc), delay=exc.delay, status=exc.status)
        except GiveUp as exc:
            await jobs.mark_dead(job, str(exc), exc.status)
        except Exception as exc:  # the job boundary: record, retry, keep going
            log.exception("job.failed id=%d kind=%s", job.id, job.kind)
            await jobs.schedule_retry(job, f"{type(exc).__name__}: {exc}")
        else:
            await jobs.mark_done(job)
