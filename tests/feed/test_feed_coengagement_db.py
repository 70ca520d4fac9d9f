"""Co-engagement pairs on a real database: made by the worker after a like, added by the
database (concurrent likes lose nothing), trimmed to each note's top k stored, only with what
the person liked before, and served to ranking as each liked note's strongest few."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

import pytest

from redfed.models import FeedEvent, Job, JobState, NoteNeighbour
from redfed.services import jobs as queue
from redfed.services.feed import candidates, events, signals
from redfed.services.feed.coengagement import DEFAULT_TOP_K, STORED_NEIGHBOURS
from redfed.services.feed.events import COENGAGEMENT_JOB
from redfed.services.feed.types import FeedEvent as Kind
from redfed.services.feed.types import FeedSettings
from tests.support.feed import account, note

FS = FeedSettings()


async def _pairs() -> dict[tuple[int, int], float]:
    rows = await NoteNeighbour.all().values_list("note_id", "neighbour_id", "score")
    return {(int(a), int(b)): float(s) for a, b, s in rows}


async def _like(person, n) -> FeedEvent:
    await events.record_event(person, Kind.LIKE, n, FS)
    return await FeedEvent.filter(account_id=person.id).order_by("-id").first()


async def test_a_like_queues_its_pairs_and_the_worker_makes_them(settings, db, worker):
    person = await account("p", user=True)
    a, b = await note(await account("a"), "x"), await note(await account("b"), "x")
    await _like(person, a)
    await _like(person, b)
    assert await _pairs() == {}  # the like's request made none
    assert await Job.filter(kind=COENGAGEMENT_JOB).count() == 2
    await worker.run_until_idle()
    inc = 1 / math.log(2 + 2)  # the person had 2 positives at the second like
    assert await _pairs() == pytest.approx({(b.id, a.id): inc, (a.id, b.id): inc})


async def test_only_earlier_likes_are_paired_so_no_pair_counts_twice(settings, db):
    person = await account("p", user=True)
    a, b = await note(await account("a"), "x"), await note(await account("b"), "x")
    first, second = await _like(person, a), await _like(person, b)
    # The worker runs the jobs late, when both likes exist: the first pairs with nothing.
    await signals.add_coengagement(person.id, a.id, first.id)
    await signals.add_coengagement(person.id, b.id, second.id)
    inc = 1 / math.log(2 + 2)
    assert await _pairs() == pytest.approx({(b.id, a.id): inc, (a.id, b.id): inc})


async def test_concurrent_likes_lose_no_increment(settings, db):
    """Many people liking the same two notes at once: every increment is added by the
    database, none overwritten by a read-modify-write."""
    a, b = await note(await account("a"), "x"), await note(await account("b"), "x")
    people = [await account(f"p{i}", user=True) for i in range(12)]
    jobs = []
    for person in people:
        await _like(person, a)
        jobs.append((person.id, b.id, (await _like(person, b)).id))
    await asyncio.gather(*(signals.add_coengagement(*job) for job in jobs))
    assert (await _pairs())[(b.id, a.id)] == pytest.approx(12 / math.log(4))


async def test_each_note_keeps_its_top_k_and_ties_go_to_the_smaller_id(settings, db):
    person = await account("p", user=True)
    hub = await note(await account("hub"), "x")
    others = [await note(await account(f"o{i}"), "x") for i in range(4)]
    for other in others:
        await _like(person, other)
    liked_hub = await _like(person, hub)
    await signals.add_coengagement(person.id, hub.id, liked_hub.id, k=2)
    pairs = await _pairs()
    # All four pairs weigh the same: the hub keeps the two smallest ids; each other note
    # keeps its one pair (with the hub).
    assert {b for a, b in pairs if a == hub.id} == {others[0].id, others[1].id}
    assert {a for a, b in pairs if b == hub.id} == {o.id for o in others}


async def test_a_note_stores_more_pairs_than_it_serves_and_ranking_reads_the_strongest(
    settings, db
):
    """A note keeps a buffer of pairs above what ranking reads, so a pair that grows slowly
    is not trimmed away before it can overtake the incumbents (coengagement.py); ranking
    reads each liked note's top DEFAULT_TOP_K."""
    assert STORED_NEIGHBOURS > DEFAULT_TOP_K
    person = await account("p", user=True)
    seed = await note(await account("seed"), "x")
    others = [await note(await account(f"o{i}"), "x") for i in range(DEFAULT_TOP_K + 5)]
    # Given a liked note with more stored pairs than are served, of distinct strengths
    for rank, other in enumerate(others):
        await NoteNeighbour.create(note_id=seed.id, neighbour_id=other.id, score=100.0 - rank)
    await _like(person, seed)
    # When ranking asks for the person's neighbours
    served = await candidates.by_neighbours(person.id)
    # Then it reads the strongest DEFAULT_TOP_K of them, scaled by the strongest
    assert set(served) == {o.id for o in others[:DEFAULT_TOP_K]}
    assert served[others[0].id] == (pytest.approx(1.0), seed.id)
    assert await NoteNeighbour.filter(note_id=seed.id).count() == DEFAULT_TOP_K + 5


async def test_an_erased_like_pairs_nothing(settings, db, worker):
    person = await account("p", user=True)
    a, b = await note(await account("a"), "x"), await note(await account("b"), "x")
    await _like(person, a)
    await _like(person, b)
    await events.reset_events(person)  # "erase what Explore keeps" before the worker ran
    await worker.run_until_idle()
    assert await _pairs() == {}


async def test_a_pairing_job_run_again_after_a_crash_counts_its_pairs_once(settings, db, worker):
    """At-least-once: a job whose handler ran but whose batch was not marked done (the
    process died, or its lease ran out) is claimed again; its increments must not be added
    twice."""
    person = await account("p", user=True)
    a, b = await note(await account("a"), "x"), await note(await account("b"), "x")
    await _like(person, a)
    await _like(person, b)
    # Given the handlers ran, and the process died before the batch was marked done
    for job in await queue.claim_due_jobs("crashed", 10, [COENGAGEMENT_JOB]):
        await events.pair_liked_note_job(worker.runtime, job)
    await Job.filter(kind=COENGAGEMENT_JOB).update(locked_until=queue.utcnow() - timedelta(1))
    # When another worker takes the jobs whose lease ran out
    await worker.run_until_idle()
    # Then every pair was counted once
    inc = 1 / math.log(2 + 2)
    assert await _pairs() == pytest.approx({(b.id, a.id): inc, (a.id, b.id): inc})
    assert set(await Job.filter(kind=COENGAGEMENT_JOB).values_list("state", flat=True)) == {
        JobState.DONE
    }


async def test_concurrent_pairing_jobs_in_opposite_orders_all_finish(settings, db, worker):
    """Several workers at once (PostgreSQL): one person liked a then b, another b then a. Each
    job writes both directions in one transaction; rows locked in different orders by two
    transactions would deadlock, and PostgreSQL would abort one of them (without the key order
    in signals.add_coengagement, 4 runs in 6 failed here; on SQLite writers queue instead)."""
    a, b = await note(await account("a"), "x"), await note(await account("b"), "x")
    people = [await account(f"p{i}", user=True) for i in range(40)]
    for i, person in enumerate(people):
        first, second = (a, b) if i % 2 else (b, a)
        await _like(person, first)
        await _like(person, second)
    claimed = await queue.claim_due_jobs("w", 100, [COENGAGEMENT_JOB])
    await asyncio.gather(*(events.pair_liked_note_job(worker.runtime, job) for job in claimed))
    assert (await _pairs())[(b.id, a.id)] == pytest.approx(40 / math.log(4))
