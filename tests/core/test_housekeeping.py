"""Housekeeping: done jobs are forgotten after a week (dead and pending ones never), expired
sessions go, the purge works in batches, and the chain queues its next hour once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redfed.models import Job, JobState, Session
from redfed.services import housekeeping, jobs
from redfed.services.sessions import create_session


def _ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def _job(name: str, state: JobState, finished_days_ago: float | None) -> Job:
    finished = None if finished_days_ago is None else _ago(finished_days_ago)
    return await Job.create(
        kind="deliver",
        payload={},
        unique_key=name,
        state=state,
        run_at=_ago(10),
        finished_at=finished,
    )


async def test_old_done_jobs_and_expired_sessions_go_the_rest_stays(db, make_local_account):
    old = [await _job(f"old{i}", JobState.DONE, 8) for i in range(5)]
    kept = [
        await _job("recent", JobState.DONE, 6),  # still guards its key against a replay
        await _job("dead", JobState.DEAD, 30),  # the admin may inspect or retry it
        await _job("queued", JobState.QUEUED, None),
    ]
    user = await make_local_account("me")
    _token, live = await create_session(await user.user)
    _token, stale = await create_session(await user.user)
    await Session.filter(token_hash=stale.token_hash).update(expires_at=_ago(1))

    purged = await housekeeping.run_housekeeping(batch=2)  # three batches: 2 + 2 + 1

    assert purged == (len(old), 1)
    assert set(await Job.filter(kind="deliver").values_list("unique_key", flat=True)) == {
        j.unique_key for j in kept
    }
    assert await Session.filter(token_hash=live.token_hash).exists()
    assert not await Session.filter(token_hash=stale.token_hash).exists()


async def test_the_chain_queues_each_hour_once(db):
    now = datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
    await housekeeping.ensure_scheduled(now)
    await housekeeping.ensure_scheduled(now + timedelta(minutes=20))  # same hour: nothing new
    await housekeeping.run_housekeeping(now)
    await housekeeping.run_housekeeping(now)  # a retried run queues no second chain
    runs = (
        await Job.filter(kind=housekeeping.KIND).order_by("run_at").values_list("run_at", flat=True)
    )
    assert [r.replace(tzinfo=UTC) if r.tzinfo is None else r for r in runs] == [
        now,
        now + housekeeping.PERIOD,
    ]


async def test_a_replayed_key_is_refused_while_its_done_job_is_kept(db):
    """The reason done jobs are kept: their unique keys refuse replays (IDEM-01)."""
    await _job("inbox:https://a.example/1", JobState.DONE, 1)
    await housekeeping.run_housekeeping()
    assert await jobs.enqueue("inbox", {}, unique_key="inbox:https://a.example/1") is None
