"""The job loop: claim due jobs, run their handler, record the outcome.

This is the one place with a broad `except Exception`: a failing job is recorded and retried,
it never stops the loop. Handlers signal their intent with `RetryLater` and `GiveUp`
(defined in services/jobs.py so that services can raise them). Jobs that succeed are marked
done together at the end of their batch (one UPDATE), and a kind may have a batch preparer
that reads what all its jobs need at once (delivery: the health of every domain in the batch).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping

from redfed.models import Job
from redfed.runtime import Runtime
from redfed.services import delivery, jobs
from redfed.services.jobs import GiveUp, RetryLater

__all__ = ["BatchPreparer", "GiveUp", "Handler", "RetryLater", "Worker"]

log = logging.getLogger(__name__)

Handler = Callable[[Runtime, Job], Awaitable[None]]
# Runs in the batch's own task before its jobs start; context variables it sets are seen by
# the batch's jobs only (each batch runs in a fresh task, so nothing leaks into the next one).
BatchPreparer = Callable[[Runtime, list[Job]], Awaitable[None]]
DEFAULT_PREPARERS: Mapping[str, BatchPreparer] = {delivery.DELIVER: delivery.prepare_batch}


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = 8,
        batch_size: int | None = None,
        preparers: Mapping[str, BatchPreparer] | None = None,
    ):
        self.runtime = runtime
        self.handlers = dict(handlers)
        self.concurrency = concurrency
        # Claiming and marking done cost a few queries per batch, so a batch holds several
        # rounds of the concurrency; much larger would hold leases on jobs left waiting.
        self.batch_size = batch_size or concurrency * 8
        self.preparers = dict(DEFAULT_PREPARERS if preparers is None else preparers)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:64]
        self._stopping = asyncio.Event()

    async def run_once(self) -> int:
        """Claim and run one batch of due jobs; returns how many ran."""
        batch = await jobs.claim_due_jobs(self.worker_id, self.batch_size, list(self.handlers))
        if not batch:
            return 0
        await asyncio.create_task(self._run_batch(batch))
        return len(batch)

    async def _run_batch(self, batch: list[Job]) -> None:
        await self._prepare(batch)
        semaphore = asyncio.Semaphore(self.concurrency)

        async def run(job: Job) -> bool:
            async with semaphore:
                return await self._run_job(job)

        outcomes = await asyncio.gather(*(run(job) for job in batch), return_exceptions=True)
        for job, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):  # recording its failure failed (database away)
                log.error("job.unrecorded id=%d kind=%s error=%r", job.id, job.kind, outcome)
        # Jobs whose outcome went unrecorded run again when their lease ends (at-least-once).
        await jobs.mark_done_many(
            [job.id for job, ok in zip(batch, outcomes, strict=True) if ok is True]
        )

    async def _prepare(self, batch: list[Job]) -> None:
        for kind, prepare in self.preparers.items():
            mine = [job for job in batch if job.kind == kind]
            if not mine:
                continue
            try:
                await prepare(self.runtime, mine)
            except Exception:  # an optimisation only: the jobs read what they need themselves
                log.exception("worker.prepare_failed kind=%s", kind)

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

    async def _run_job(self, job: Job) -> bool:
        """Run one job; True when it succeeded (the batch marks it done), else its failure is
        recorded here already."""
        handler = self.handlers.get(job.kind)
        if handler is None:
            await jobs.mark_dead(job, f"no handler for job kind {job.kind!r}")
            return False
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
            return True
        return False
