"""The delivery queue's claim: workers claiming at the same moment never get the same job
(PostgreSQL: row locks with SKIP LOCKED; SQLite: one writer at a time), and a claimed job
carries what handlers read."""

from __future__ import annotations

import asyncio
from collections import Counter

from redfed.models import Job, JobState
from redfed.services import jobs


async def test_concurrent_claims_never_share_a_job(db: str) -> None:
    # Given 300 due jobs
    await jobs.enqueue_many(
        [Job(kind="deliver", payload={"n": n}, run_at=jobs.utcnow()) for n in range(300)]
    )
    # When three workers claim at once (on PostgreSQL, each on its own pooled connection)
    claims = await asyncio.gather(
        *(jobs.claim_due_jobs(f"worker-{w}", 150, ["deliver"]) for w in range(3))
    )
    # Then no job is in two claims, every job is claimed once, and the rows say by whom
    ids = [job.id for claim in claims for job in claim]
    assert len(ids) == len(set(ids)) == 300
    for w, claim in enumerate(claims):
        assert all(job.locked_by == f"worker-{w}" for job in claim)
    by_worker = Counter(
        await Job.filter(state=JobState.RUNNING).values_list("locked_by", flat=True)
    )
    assert by_worker == Counter({f"worker-{w}": len(claim) for w, claim in enumerate(claims)})


async def test_a_claimed_job_carries_what_handlers_read(db: str) -> None:
    queued = await jobs.enqueue("deliver", {"inbox": "https://a.example/inbox"}, domain="a.example")
    assert queued is not None
    [claimed] = await jobs.claim_due_jobs("w", 10, ["deliver"])
    assert (claimed.id, claimed.kind, claimed.domain) == (queued.id, "deliver", "a.example")
    assert claimed.payload == {"inbox": "https://a.example/inbox"}
    assert (claimed.attempts, claimed.max_attempts, claimed.locked_by) == (0, 16, "w")
