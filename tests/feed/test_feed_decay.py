"""Decay of stored signals on a real database: a note's engagement fades in days, its author's
reach (what damping divides by) over months; the daily job works in chunks, resumes where a
crash stopped it (nothing skipped, nothing decayed twice) and hands the rest of an over-budget
run to a follow-up job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from redfed.models import AuthorEngagement, Job, Note, NoteNeighbour
from redfed.services import jobs as queue
from redfed.services.feed import maintenance
from redfed.services.feed.types import FeedSettings
from tests.support.feed import NOW, account, note

WEEK = FeedSettings(engagement_half_life_days=7.0, neighbour_half_life_days=7.0)


async def test_author_reach_decays_on_its_own_longer_half_life(settings, db):
    author = await account("big")
    n = await note(author, "x", engagement=8.0)
    await AuthorEngagement.create(account=author, engagement=8.0)
    fs = FeedSettings(engagement_half_life_days=7.0, author_half_life_days=180.0)
    await maintenance.decay_signals(fs, timedelta(days=7))
    assert (await Note.get(id=n.id)).engagement == pytest.approx(4.0)
    reach = (await AuthorEngagement.get(account=author)).engagement
    assert reach == pytest.approx(8.0 * 2 ** (-7 / 180))


async def _world() -> tuple[list[Note], list[NoteNeighbour]]:
    notes = [await note(await account(f"a{i}"), "x", engagement=float(i + 1)) for i in range(7)]
    faint = await note(await account("faint"), "x", engagement=0.0015)
    pairs = [
        await NoteNeighbour.create(note=notes[0], neighbour=other, score=2.0 + i)
        for i, other in enumerate(notes[1:])
    ]
    pairs.append(await NoteNeighbour.create(note=notes[1], neighbour=faint, score=0.0015))
    return [*notes, faint], pairs


async def _engagement(notes: list[Note]) -> list[float]:
    rows = dict(await Note.filter(id__in=[n.id for n in notes]).values_list("id", "engagement"))
    return [rows[n.id] for n in notes]


async def test_chunks_decay_every_row_once_and_drop_what_faded(settings, db, monkeypatch):
    monkeypatch.setattr(maintenance, "DECAY_CHUNK", 2)
    notes, pairs = await _world()
    assert await maintenance.decay_signals(WEEK, timedelta(days=7)) is None
    assert await _engagement(notes) == pytest.approx([*(i / 2 for i in range(1, 8)), 0.0])
    scores = dict(await NoteNeighbour.all().values_list("id", "score"))
    assert scores == pytest.approx({p.id: (2.0 + i) / 2 for i, p in enumerate(pairs[:-1])})


async def test_a_crash_mid_decay_resumes_where_it_stopped(settings, db, monkeypatch):
    """The position commits with its chunk: the chunk that failed is rolled back and redone,
    the ones before it are not decayed again."""
    monkeypatch.setattr(maintenance, "DECAY_CHUNK", 2)
    notes, _ = await _world()
    saved: list[tuple[int, int]] = []

    async def crash_on_third(position: tuple[int, int]) -> None:
        if len(saved) == 2:
            raise RuntimeError("worker killed")
        saved.append(position)

    with pytest.raises(RuntimeError):
        await maintenance.decay_signals(WEEK, timedelta(days=7), progress=crash_on_third)
    assert saved[-1] == (0, notes[3].id)
    halfway = await _engagement(notes)
    assert halfway[:4] == pytest.approx([0.5, 1.0, 1.5, 2.0]) and halfway[4] == 5.0
    await maintenance.decay_signals(WEEK, timedelta(days=7), start=saved[-1])
    assert await _engagement(notes) == pytest.approx([*(i / 2 for i in range(1, 8)), 0.0])


async def test_an_over_budget_run_hands_the_rest_to_a_follow_up_job(
    settings, db, worker, monkeypatch
):
    monkeypatch.setattr(maintenance, "DECAY_CHUNK", 3)
    monkeypatch.setattr(maintenance, "DECAY_BUDGET", 0.0)  # one chunk per run
    notes, _ = await _world()
    await maintenance.ensure_decay_scheduled(NOW)
    await maintenance.ensure_decay_scheduled(NOW)  # once a day
    # 8 notes and 7 pairs (no author rows here): 3 + 3 + 2 and 3 + 3 + 1 rows, one chunk a
    # run, and a last run that finds nothing left.
    assert await worker.run_until_idle() == 7
    assert await Job.filter(kind=maintenance.DECAY_KIND).count() == 7
    day = maintenance.DECAY_PERIOD.total_seconds() / 86400
    expected = [(i + 1) * 2 ** (-day / 7) for i in range(7)]
    assert (await _engagement(notes))[:7] == pytest.approx(expected)


async def test_a_run_that_handed_on_and_then_crashed_is_not_run_again(
    settings, db, worker, monkeypatch
):
    """A run over budget queues a follow-up from its position. Had the run's process died
    before its batch was marked done, the run would be claimed again from that same position
    next to the follow-up, and the chunks after it decayed twice."""
    monkeypatch.setattr(maintenance, "DECAY_CHUNK", 3)
    monkeypatch.setattr(maintenance, "DECAY_BUDGET", 0.0)  # one chunk per run
    notes, _ = await _world()
    await maintenance.ensure_decay_scheduled(NOW)
    # Given the day's first run handed on, and its process died before its batch was marked
    for job in await queue.claim_due_jobs("crashed", 10, [maintenance.DECAY_KIND]):
        await maintenance.handle_decay(worker.runtime, job)
    await Job.filter(kind=maintenance.DECAY_KIND).update(locked_until=queue.utcnow() - timedelta(1))
    # When the worker takes what is due
    await worker.run_until_idle()
    # Then every note decayed once
    day = maintenance.DECAY_PERIOD.total_seconds() / 86400
    expected = [(i + 1) * 2 ** (-day / 7) for i in range(7)]
    assert (await _engagement(notes))[:7] == pytest.approx(expected)


async def test_days_the_worker_missed_are_decayed_by_the_next_run(settings, db, worker):
    """Decay runs once a day; after three days without a worker, the next run decays three
    days' worth (the last day's job is still kept), not one."""
    notes, _ = await _world()
    await maintenance.ensure_decay_scheduled(NOW - timedelta(days=3))
    await Job.filter(kind=maintenance.DECAY_KIND).update(state="done")  # that day's run
    await maintenance.ensure_decay_scheduled(NOW)
    assert await worker.run_until_idle() == 1
    expected = [(i + 1) * 2 ** (-3 / 7) for i in range(7)]
    assert (await _engagement(notes))[:7] == pytest.approx(expected)
