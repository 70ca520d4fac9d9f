"""The durable job queue's operations: enqueue in the caller's transaction, claim, finish, retry.

Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several `redfed worker` processes
never run one job twice at once; SQLite serialises writers, so one worker is the rule there.
A claimed job carries a lease (`locked_until`): if its worker dies (kill -9), the lease
expires and another worker takes the job again — at-least-once delivery (FLT-07).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.functions import Count

from redfed.models import DomainHealth, Job, JobState

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# The fields of a claimed job (a partial row: never `save()` it, write with `Job.filter`).
CLAIMED_FIELDS = (
    "id",
    "kind",
    "payload",
    "unique_key",
    "attempts",
    "max_attempts",
    "domain",
    "locked_by",
    "created_at",
)
MAX_INSERT_BATCH = 64  # 64 rows x 15 columns stay under SQLite's old 999-parameter limit


class RetryLater(Exception):
    """Raised by a job handler: try the job again later (after `delay` seconds, or by the
    backoff schedule). Lives here, below the worker, so services can raise it."""

    def __init__(self, reason: str, *, delay: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.delay = delay
        self.status = status


class GiveUp(Exception):
    """Raised by a job handler: the job can never succeed (e.g. a 4xx from a remote inbox)."""

    def __init__(self, reason: str, *, status: int | None = None):
        super().__init__(reason)
        self.status = status


def utcnow() -> datetime:
    return datetime.now(UTC)


async def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    unique_key: str | None = None,
    run_at: datetime | None = None,
    domain: str = "",
    max_attempts: int = 16,
) -> Job | None:
    """Add a job; returns None when a job with the same `unique_key` already exists.

    Call inside the transaction that makes the change causing the job, so both land or neither.
    """
    job = Job(
        kind=kind,
        payload=payload,
        unique_key=unique_key,
        run_at=run_at or utcnow(),
        domain=domain,
        max_attempts=max_attempts,
    )
    if unique_key is None:
        await job.save()
        return job
    return job if await insert_unique_jobs([job]) else None


async def insert_unique_jobs(batch: Sequence[Job]) -> set[str]:
    """Insert prepared jobs that all have a `unique_key` in ONE statement; returns the keys that
    were new. `INSERT … ON CONFLICT DO NOTHING RETURNING` (SQLite ≥ 3.35, PostgreSQL): a
    duplicate must not abort the surrounding transaction, which a caught IntegrityError would
    on PostgreSQL, and the returned rows say which jobs are new without a SELECT. What
    `enqueue` does for one job, and the inbox's group commit for many (at most MAX_INSERT_BATCH)."""
    if not batch or len(batch) > MAX_INSERT_BATCH or not all(job.unique_key for job in batch):
        raise ValueError("insert_unique_jobs takes 1 to 64 jobs, each with a unique_key")
    db = Job._meta.db
    columns = db.executor_class(model=Job, db=db).regular_columns
    fields_map = Job._meta.fields_map
    values = [fields_map[f].to_db_value(getattr(job, f), job) for job in batch for f in columns]
    names = ",".join(f'"{Job._meta.fields_db_projection[f]}"' for f in columns)
    if db.capabilities.dialect == "postgres":
        width = len(columns)
        rows = ",".join(
            "(" + ",".join(f"${r * width + c}" for c in range(1, width + 1)) + ")"
            for r in range(len(batch))
        )
    else:
        rows = ",".join(["(" + ",".join("?" * len(columns)) + ")"] * len(batch))
    # Only model metadata and placeholders are formatted in; every value is a bound parameter.
    sql = (
        f'INSERT INTO "{Job._meta.db_table}" ({names}) VALUES {rows}'  # noqa: S608
        ' ON CONFLICT ("unique_key") DO NOTHING RETURNING "unique_key"'
    )
    # execute_query_dict, not execute_query: the asyncpg client answers an INSERT with no rows.
    return {row["unique_key"] for row in await db.execute_query_dict(sql, values)}


async def enqueue_many(jobs: Sequence[Job]) -> None:
    """Insert many prepared jobs at once (fan-out of one activity to many inboxes)."""
    if jobs:
        await Job.bulk_create(list(jobs), batch_size=500, ignore_conflicts=True)


async def claim_due_jobs(
    worker_id: str, limit: int, kinds: Sequence[str] | None = None
) -> list[Job]:
    """Lease up to `limit` due jobs to this worker. Expired leases count as due."""
    now = utcnow()
    due = Q(state=JobState.QUEUED, run_at__lte=now) | Q(
        state=JobState.RUNNING, locked_until__lt=now
    )
    conn = connections.get("default")
    async with conn._in_transaction() as tx:  # noqa: SLF001 - Tortoise's transaction API
        query = Job.filter(due).using_db(tx).order_by("run_at").limit(limit)
        if kinds:
            query = query.filter(kind__in=list(kinds))
        if conn.capabilities.dialect == "postgres":
            query = query.select_for_update(skip_locked=True)
        # Rows with only their id, not `values_list`: Tortoise drops FOR UPDATE SKIP LOCKED from
        # values queries, and then two workers claimed (and sent) the same jobs.
        ids = [job.id for job in await query.only("id")]
        if not ids:
            return []
        await (
            Job.filter(id__in=ids)
            .using_db(tx)
            .update(state=JobState.RUNNING, locked_until=now + LEASE, locked_by=worker_id)
        )
        # Only what handlers and the worker read: parsing the four timestamps of every row
        # cost more than claiming itself (about 0.4 ms a job on SQLite, which stores text).
        return list(
            await Job.filter(id__in=ids).using_db(tx).order_by("run_at").only(*CLAIMED_FIELDS)
        )


async def mark_done(job: Job) -> None:
    await Job.filter(id=job.id).update(
        state=JobState.DONE,
        finished_at=utcnow(),
        locked_until=None,
        attempts=job.attempts + 1,
        last_error="",
    )


async def mark_done_many(job_ids: Sequence[int]) -> None:
    """Mark a batch of finished jobs done in one UPDATE: one write per batch instead of one per
    delivery (each write is a commit, an fsync on SQLite). A crash before this runs only means
    the jobs run again after their lease: at-least-once, as before."""
    ids = list(job_ids)
    for start in range(0, len(ids), 500):  # SQLite allows 999 bound parameters
        await Job.filter(id__in=ids[start : start + 500]).update(
            state=JobState.DONE,
            finished_at=utcnow(),
            locked_until=None,
            attempts=F("attempts") + 1,
            last_error="",
        )


async def finish_once(job: Job) -> bool:
    """Mark a claimed job done inside the caller's transaction, before its work; False when
    another run finished it already (the caller then skips the work).

    For work that must not happen twice (adding increments, handing on a position): the
    worker marks a job done only after its whole batch, so a crash or an expired lease in
    between runs it again (at-least-once). Here the work and the mark commit together, and a
    second run finds the mark: on PostgreSQL it waits on the row lock of a run in progress
    and then sees it. (The batch's own mark afterwards changes nothing that matters.)"""
    finished = await Job.filter(id=job.id, state=JobState.RUNNING).update(
        state=JobState.DONE, finished_at=utcnow(), locked_until=None
    )
    return bool(finished)


async def mark_dead(job: Job, error: str, status: int | None = None) -> None:
    await Job.filter(id=job.id).update(
        state=JobState.DEAD,
        finished_at=utcnow(),
        locked_until=None,
        attempts=job.attempts + 1,
        last_error=error[:2000],
        last_status=status,
    )
    log.warning("job.dead id=%d kind=%s error=%s", job.id, job.kind, error[:200])


async def schedule_retry(
    job: Job, error: str, *, delay: float | None = None, status: int | None = None
) -> None:
    """Retry later with backoff, or give up once the attempts are used."""
    attempts = job.attempts + 1
    if attempts >= job.max_attempts:
        await mark_dead(job, f"gave up after {attempts} attempts: {error}", status)
        return
    wait = backoff_seconds(attempts) if delay is None else delay
    await Job.filter(id=job.id).update(
        state=JobState.QUEUED,
        attempts=attempts,
        run_at=utcnow() + timedelta(seconds=wait),
        locked_until=None,
        last_error=error[:2000],
        last_status=status,
    )
    log.info(
        "job.retry id=%d kind=%s attempt=%d in=%.0fs error=%s",
        job.id,
        job.kind,
        attempts,
        wait,
        error[:200],
    )


def backoff_seconds(attempt: int) -> float:
    """Mastodon's schedule: n⁴ + 15 + jitter up to n⁴/2 — 16 attempts span about two days."""
    base = attempt**4 + 15
    return float(base + random.uniform(0, 0.5 * attempt**4))


async def enqueue_for_period(
    kind: str, period: timedelta, at: datetime, payload: dict[str, Any] | None = None
) -> Job | None:
    """Queue `kind` to run at `at`, at most once for the period holding `at`: the unique key
    names the period, so every process may call this at start-up and each run may queue the
    next without two chains forming."""
    number = int(at.timestamp() // period.total_seconds())
    return await enqueue(kind, payload or {}, unique_key=f"{kind}:{number}", run_at=at)


async def purge_finished(older_than: timedelta, batch: int = 5000) -> int:
    """Forget at most `batch` done jobs finished over `older_than` ago (until then their
    unique keys guard against replays). Dead jobs stay for the admin to inspect or retry."""
    cutoff = utcnow() - older_than
    ids = (
        await Job.filter(state=JobState.DONE, finished_at__lt=cutoff)
        .limit(batch)
        .values_list("id", flat=True)
    )
    return await Job.filter(id__in=list(ids)).delete() if ids else 0


async def queue_counts() -> dict[str, dict[str, int]]:
    """Counts by kind and state, for `redfed queue status` and the admin page."""
    rows = await Job.annotate(n=Count("id")).group_by("kind", "state").values("kind", "state", "n")
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["kind"], {})[str(row["state"])] = int(row["n"])
    return counts


async def retry_jobs(*, domain: str = "", dead: bool = False) -> int:
    """Make queued jobs (and with `dead`, dead ones, attempts reset) due now; with `domain`, only
    that domain's, and its circuit breaker is closed. What `redfed queue retry` and the admin's
    federation page do; returns how many jobs are due now."""
    states = [JobState.QUEUED] + ([JobState.DEAD] if dead else [])
    query = Job.filter(state__in=states)
    if domain:
        query = query.filter(domain=domain.lower())
        await DomainHealth.filter(domain=domain.lower()).update(circuit_open_until=None)
    count = await query.update(
        state=JobState.QUEUED, run_at=utcnow(), attempts=0, finished_at=None, locked_until=None
    )
    log.info("job.retry_requested domain=%s dead=%s jobs=%d", domain or "*", dead, count)
    return count


async def dead_jobs(limit: int = 50) -> list[Job]:
    """The newest jobs that gave up, with their last error (for the admin)."""
    return list(await Job.filter(state=JobState.DEAD).order_by("-finished_at").limit(limit))


async def troubled_domains(limit: int = 50) -> list[DomainHealth]:
    """Domains failing now or marked unavailable, the worst first (for the admin)."""
    rows = (
        await DomainHealth.filter(Q(consecutive_failures__gt=0) | Q(unavailable=True))
        .order_by("-unavailable", "-consecutive_failures", "domain")
        .limit(limit)
    )
    return list(rows)
