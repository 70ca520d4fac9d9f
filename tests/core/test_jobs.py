"""The durable job queue and worker: idempotent enqueue, retries, leases, crash recovery."""

from __future__ import annotations

from datetime import timedelta

from redfed.models import Job, JobState
from redfed.runtime import Runtime
from redfed.services import jobs
from redfed.worker.runner import GiveUp, RetryLater, Worker


async def test_enqueue_is_idempotent_on_unique_key(db: str) -> None:
    first = await jobs.enqueue("inbox", {"n": 1}, unique_key="inbox:https://a.example/1")
    second = await jobs.enqueue("inbox", {"n": 2}, unique_key="inbox:https://a.example/1")
    assert first is not None and second is None
    assert await Job.all().count() == 1


async def test_worker_runs_handlers_and_records_outcomes(db: str, settings) -> None:
    seen: list[int] = []

    async def ok(rt: Runtime, job: Job) -> None:
        seen.append(job.payload["n"])

    async def flaky(rt: Runtime, job: Job) -> None:
        raise RetryLater("remote said 503", delay=3600, status=503)

    async def hopeless(rt: Runtime, job: Job) -> None:
        raise GiveUp("remote said 404", status=404)

    async def crashing(rt: Runtime, job: Job) -> None:
        raise ValueError("bug")

    worker = Worker(
        Runtime(settings), {"ok": ok, "flaky": flaky, "hopeless": hopeless, "crash": crashing}
    )
    for kind in ("ok", "flaky", "hopeless", "crash"):
        await jobs.enqueue(kind, {"n": 7})
    assert await worker.run_until_idle() == 4
    assert seen == [7]
    states = {j.kind: j for j in await Job.all()}
    assert states["ok"].state == JobState.DONE
    assert states["flaky"].state == JobState.QUEUED and states["flaky"].last_status == 503
    assert states["flaky"].run_at > jobs.utcnow() + timedelta(minutes=59)
    assert states["hopeless"].state == JobState.DEAD and states["hopeless"].last_status == 404
    assert states["crash"].state == JobState.QUEUED and "ValueError" in states["crash"].last_error


async def test_attempts_are_bounded(db: str, settings) -> None:
    async def flaky(rt: Runtime, job: Job) -> None:
        raise RetryLater("again", delay=0)

    worker = Worker(Runtime(settings), {"flaky": flaky})
    await jobs.enqueue("flaky", {}, max_attempts=3)
    await worker.run_until_idle()
    job = await Job.get()
    assert job.state == JobState.DEAD and job.attempts == 3


async def test_a_dead_workers_lease_expires_and_the_job_runs_again(db: str, settings) -> None:
    # Given a job claimed by a worker that was then killed (its lease still held)
    await jobs.enqueue("ok", {})
    claimed = await jobs.claim_due_jobs("killed-worker", 10)
    assert len(claimed) == 1
    ran: list[str] = []

    async def ok(rt: Runtime, job: Job) -> None:
        ran.append(job.locked_by)

    worker = Worker(Runtime(settings), {"ok": ok})
    # When another worker looks while the lease holds, it leaves the job alone
    assert await worker.run_until_idle() == 0
    # Then once the lease has expired, the job is taken again and finished
    await Job.all().update(locked_until=jobs.utcnow() - timedelta(seconds=1))
    assert await worker.run_until_idle() == 1
    assert ran == [worker.worker_id]
    assert (await Job.get()).state == JobState.DONE


def test_backoff_grows_to_about_two_days_over_sixteen_attempts() -> None:
    total = sum(jobs.backoff_seconds(n) for n in range(1, 16))
    assert 1.5 * 86400 < total < 4 * 86400
