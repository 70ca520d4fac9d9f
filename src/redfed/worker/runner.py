"""The job loop: claim due jobs, run their handler, record the outcome.

This is the one place with a broad `except Exception`: a failing job is recorded and retried,
it never stops the loop. Handlers signal their intent with `RetryLater` and `GiveUp`
(defined in services/jobs.py so that services can raise them). Jobs that succeed are marked
done together at the end of their batch (one UPDATE), and a kind may have a batch preparer
that reads what all its jobs need at once (delivery: the health of every domain in the batch).
`run_forever` overlaps batches (see there); `run_once` / `run_until_idle` run one batch at a
time, which tests and the CLI rely on.
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

    async def _run_batch(
        self,
        batch: list[Job],
        slots: asyncio.Semaphore | None = None,
        all_started: asyncio.Event | None = None,
    ) -> None:
        """Run a batch, at most `concurrency` jobs at once (or as many as `slots`, shared with
        other batches, allow); `all_started` is set once every job has a slot."""
        await self._prepare(batch)
        semaphore = slots or asyncio.Semaphore(self.concurrency)
        waiting = len(batch)

        async def run(job: Job) -> bool:
            nonlocal waiting
            async with semaphore:
                waiting -= 1
                if waiting == 0 and all_started is not None:
                    all_started.set()
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

    async def run_forever(self, *, until_idle: bool = False) -> int:
        """Poll for jobs until stop() is called (with `until_idle`, until none is due); a
        started batch is never cut short. Returns how many jobs ran.

        Batches overlap: the next one is claimed as soon as every job of the running ones has a
        slot, so the slots freed by a batch's tail (one slow inbox can hold it for the whole
        HTTP timeout) go to the next batch's jobs instead of idling. `concurrency` still bounds
        the jobs running at once, across batches."""
        poll = self.runtime.settings.worker.poll_seconds
        slots = asyncio.Semaphore(self.concurrency)
        running: set[asyncio.Task[None]] = set()
        total = 0
        log.info("worker.started id=%s", self.worker_id)
        try:
            while not self._stopping.is_set():
                ran = await self._claim_and_start(slots, running)
                total += ran
                if ran:
                    continue
                if running:  # nothing due yet: the running batches may enqueue more
                    _done, pending = await asyncio.wait(
                        running, return_when=asyncio.FIRST_COMPLETED
                    )
                    running.intersection_update(pending)
                    continue
                if until_idle:
                    break
                await self._sleep(poll)
        finally:
            if running:  # stop(): let the started batches finish and record their outcomes
                await asyncio.wait(running)
        log.info("worker.stopped id=%s", self.worker_id)
        return total

    async def _claim_and_start(
        self, slots: asyncio.Semaphore, running: set[asyncio.Task[None]]
    ) -> int:
        """Claim a batch and start it; returns once all its jobs have slots (or it is done)."""
        try:
            batch = await jobs.claim_due_jobs(self.worker_id, self.batch_size, list(self.handlers))
        except Exception:  # the database may be briefly away: keep the loop alive
            log.exception("worker.claim_failed")
            return 0
        if not batch:
            return 0
        all_started = asyncio.Event()
        task = asyncio.create_task(self._run_batch(batch, slots, all_started))
        running.add(task)

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            if not task.cancelled() and task.exception() is not None:
                # Recording outcomes failed (database away): the leases bring the jobs back.
                log.error("worker.batch_failed", exc_info=task.exception())

        task.add_done_callback(finished)
        started = asyncio.create_task(all_started.wait())
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        return len(batch)

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
