"""The worker's batches overlap: a slow job at the tail of one batch does not keep the next
batch waiting, `concurrency` still bounds the jobs running at once, and every outcome is
recorded (jobs done in their batch's one UPDATE)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from redfed.models import Job, JobState
from redfed.runtime import Runtime
from redfed.services import jobs
from redfed.worker.runner import Worker


async def test_the_next_batch_runs_while_a_slow_job_holds_the_last_one(db: str, settings) -> None:  # type: ignore[no-untyped-def]
    # Given a slow job queued first and eight quick ones, and a worker taking 2 jobs a batch
    # with 2 slots
    release = asyncio.Event()
    quick_done: list[int] = []
    running = peak = 0

    async def slow(rt: Runtime, job: Job) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    async def quick(rt: Runtime, job: Job) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        quick_done.append(job.id)
        running -= 1
        if len(quick_done) == 8:
            release.set()  # the slow job ends only after every quick one (later batches) ran

    await jobs.enqueue("slow", {}, run_at=jobs.utcnow() - timedelta(seconds=1))
    for _ in range(8):
        await jobs.enqueue("quick", {})
    worker = Worker(Runtime(settings), {"slow": slow, "quick": quick}, concurrency=2, batch_size=2)
    # When it runs until nothing is due
    ran = await asyncio.wait_for(worker.run_forever(until_idle=True), 20)
    # Then the quick jobs of later batches ran while the first batch's slow job held its slot,
    # never more than 2 at once, and every job is recorded done
    assert ran == 9 and len(quick_done) == 8
    assert peak == 2
    assert await Job.filter(state=JobState.DONE).count() == 9


async def test_stop_lets_started_batches_finish(db: str, settings) -> None:  # type: ignore[no-untyped-def]
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(rt: Runtime, job: Job) -> None:
        started.set()
        await release.wait()

    await jobs.enqueue("slow", {})
    worker = Worker(Runtime(settings), {"slow": slow})
    loop_task = asyncio.create_task(worker.run_forever())
    await asyncio.wait_for(started.wait(), 10)
    worker.stop()
    await asyncio.sleep(0.05)
    assert not loop_task.done()  # the started batch is not cut short
    release.set()
    assert await asyncio.wait_for(loop_task, 10) == 1
    assert (await Job.get()).state == JobState.DONE
