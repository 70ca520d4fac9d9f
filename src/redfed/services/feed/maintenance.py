"""Feed background jobs: trending per language and purge of old events every hour, decay of
engagement and neighbours once a day. Each run is bounded; the hourly one re-enqueues itself
for the next period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F, Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from redfed.ids import min_id_for
from redfed.models import (
    AuthorEngagement,
    FeedEvent,
    Job,
    Note,
    NoteNeighbour,
    TrendingNote,
    Visibility,
)
from redfed.runtime import Runtime
from redfed.services import jobs

from .coengagement import decay_factor
from .events import purge_old_events
from .signals import feed_settings
from .trending import TRENDING_WINDOW, trending_scores
from .types import FeedEvent as Kind
from .types import FeedSettings

log = logging.getLogger(__name__)

KIND = "feed.maintain"
PERIOD = timedelta(hours=1)
_FLOOR = 1e-3  # decayed values under this become 0 / are dropped


async def ensure_scheduled(now: datetime | None = None) -> None:
    """Enqueue this period's run unless it exists (idempotent: unique key per period)."""
    await jobs.enqueue_for_period(KIND, PERIOD, now or datetime.now(UTC))


# Decay rewrites every engaged note, neighbour pair and author: at 1M notes that was 16.7 s of
# writes (13 s CPU) in three statements, each holding SQLite's write lock throughout, every
# hour, and 24 million dead rows a day on PostgreSQL. Ranking compares stored values with one
# another (popularity over the top note, damping over the median author, neighbours over each
# seed's strongest), and a uniform factor changes none of those comparisons: decay only has to
# keep old engagement from outweighing new. Once a day does that (a like from this morning
# counts at most 10 % too much against one from last week at a 7-day half-life), in chunks
# that each hold the lock briefly, with progress saved so a crash neither skips nor repeats.
DECAY_KIND = "feed.decay"
DECAY_PERIOD = timedelta(days=1)
# Rows per chunk. On SQLite a like waits for the chunk in progress: 5,000 rows held the one
# connection ~190 ms (update and commit, which runs the WAL checkpoint), 1,000 ~60 ms (likes
# during the decay p99 64 ms instead of 470); the day's run takes 69 s instead of 45.
DECAY_CHUNK = 1000
DECAY_BUDGET = 30.0  # seconds of one run; the rest continues in a follow-up job
DECAY_CATCH_UP_DAYS = 7


@dataclass(frozen=True)
class _Decayed:
    """One stored signal that fades: its table, column and what happens at the floor."""

    model: type[Model]
    column: str
    half_life: str  # the FeedSettings field
    drop_at_floor: bool  # delete the row (neighbours) instead of setting 0


_SIGNALS = (
    _Decayed(Note, "engagement", "engagement_half_life_days", False),
    # Long horizon: an author's reach, see FeedSettings.author_half_life_days.
    _Decayed(AuthorEngagement, "engagement", "author_half_life_days", False),
    _Decayed(NoteNeighbour, "score", "neighbour_half_life_days", True),
)


async def ensure_decay_scheduled(now: datetime) -> None:
    """Enqueue today's decay unless it exists (unique key per day), covering every day since
    the last one: after a worker was down for three days, one run decays three days' worth.
    Done jobs are kept a week (housekeeping), so that is how far back a gap is seen."""
    day = int(now.timestamp() // DECAY_PERIOD.total_seconds())
    earlier = [f"{DECAY_KIND}:{d}" for d in range(day - DECAY_CATCH_UP_DAYS, day)]
    found = await Job.filter(unique_key__in=earlier).values_list("unique_key", flat=True)
    last = max((int(str(key).rsplit(":", 1)[1]) for key in found), default=day - 1)
    payload = {"day": day, "days": day - last}
    await jobs.enqueue(DECAY_KIND, payload, unique_key=f"{DECAY_KIND}:{day}", run_at=now)


async def decay_signals(
    fs: FeedSettings,
    elapsed: timedelta,
    *,
    start: tuple[int, int] = (0, 0),
    budget: float | None = None,
    progress: Callable[[tuple[int, int]], Awaitable[None]] | None = None,
) -> tuple[int, int] | None:
    """Multiply every stored signal by its decay over `elapsed`, chunk by chunk.

    `start` is (signal index, last id done); `progress`, if given, is awaited inside each
    chunk's transaction with the position after it, so the position and the rows commit
    together. Returns None when done, or where to continue once `budget` seconds are spent.
    """
    began = time.monotonic()
    for index in range(start[0], len(_SIGNALS)):
        signal = _SIGNALS[index]
        factor = decay_factor(elapsed.total_seconds(), getattr(fs, signal.half_life))
        after = start[1] if index == start[0] else 0
        while upper := await _chunk_end(signal, after):
            async with in_transaction():
                await _scale(signal, after, upper, factor)
                if progress is not None:
                    await progress((index, upper))
            after = upper
            # Checked after a chunk, so every run moves on even with a tiny budget.
            if budget is not None and time.monotonic() - began > budget:
                return index, after
            await asyncio.sleep(0)  # requests get the loop (and the lock) between chunks
    return None


async def _chunk_end(signal: _Decayed, after: int) -> int | None:
    """The last id of the next chunk: up to DECAY_CHUNK rows with a signal after `after`
    (an index walk; the chunk is then one primary-key range, not a list of ids)."""
    rows = signal.model.filter(id__gt=after, **{f"{signal.column}__gt": 0}).order_by("id")
    ends = await rows.offset(DECAY_CHUNK - 1).limit(1).values_list("id", flat=True)
    if not ends:
        ends = await rows.order_by("-id").limit(1).values_list("id", flat=True)
    return int(ends[0]) if ends else None  # type: ignore[call-overload]


async def _scale(signal: _Decayed, after: int, upper: int, factor: float) -> None:
    column, chunk = signal.column, Q(id__gt=after, id__lte=upper)
    await signal.model.filter(chunk, **{f"{column}__gt": 0}).update(**{column: F(column) * factor})
    faded = signal.model.filter(chunk, **{f"{column}__gt": 0, f"{column}__lt": _FLOOR})
    if signal.drop_at_floor:
        await faded.delete()
    else:
        await faded.update(**{column: 0.0})


async def handle_decay(rt: Runtime, job: Job) -> None:
    """Worker entry point for `feed.decay`: the decay of the days since the last run, resumed
    where a crashed or over-budget run stopped (the position is kept in the job's payload)."""
    payload = dict(job.payload or {})
    start = (int(payload.get("signal", 0)), int(payload.get("after", 0)))

    async def save(position: tuple[int, int]) -> None:
        payload.update(signal=position[0], after=position[1])
        await Job.filter(id=job.id).update(payload=payload)

    fs = await feed_settings(rt.settings)
    days = int(payload.get("days", 1))
    elapsed = DECAY_PERIOD * days
    left = await decay_signals(fs, elapsed, start=start, budget=DECAY_BUDGET, progress=save)
    if left is not None:
        day = payload.get("day", 0)
        key = f"{DECAY_KIND}:{day}:{left[0]}:{left[1]}"
        more = {"day": day, "days": days, "signal": left[0], "after": left[1]}
        # This run is marked done with the follow-up's enqueue: run again after a crash (its
        # batch not yet marked), it would decay the follow-up's chunks a second time.
        async with in_transaction():
            if await jobs.finish_once(job):
                await jobs.enqueue(DECAY_KIND, more, unique_key=key)
        log.info("feed.decay_continues signal=%d after=%d", *left)


async def recompute_trending(now: datetime) -> int:
    """Replace the trending table with the last day's trends (trending.trending_scores)."""
    since = now - TRENDING_WINDOW
    positive = [Kind.LIKE.value, Kind.COLLECT.value, Kind.COMMENT.value, Kind.SHARE.value]
    # Event ids are time-ordered snowflakes, so the day is a primary-key range, read as it is
    # and counted here: with a GROUP BY (or a note_id filter) SQLite's planner walked the
    # note_id index over every kept event instead (0.6–0.8 s with 7 days of events at 10,000
    # people; a server keeps 90).
    day = await FeedEvent.filter(id__gte=min_id_for(since), kind__in=positive).values_list(
        "note_id", flat=True
    )
    per_note = Counter(int(n) for n in day if n is not None)  # type: ignore[call-overload]
    counts = {n: c for n, c in per_note.items() if c > 1}
    notes = await Note.filter(
        id__in=list(counts), visibility=Visibility.PUBLIC, sensitive=False
    ).values_list("id", "language")
    scores = trending_scores(counts, {int(i): str(lang) for i, lang in notes})
    fresh = [
        TrendingNote(note_id=i, language=lang, score=score) for i, (lang, score) in scores.items()
    ]
    # One transaction: pages read the old trends until the new ones are in, and a failure
    # (a killed worker) between the two statements leaves the old ones, not an empty table.
    async with in_transaction():
        await TrendingNote.all().delete()
        await TrendingNote.bulk_create(fresh)
    return len(fresh)


async def run_maintenance(fs: FeedSettings, now: datetime | None = None) -> None:
    """One period: decay, trending, purge; then schedule the next period."""
    now = now or datetime.now(UTC)
    await ensure_decay_scheduled(now)
    trending = await recompute_trending(now)
    purged = await purge_old_events(now)
    log.info("feed.maintained trending=%d purged=%d", trending, purged)
    await jobs.enqueue_for_period(KIND, PERIOD, now + PERIOD)


async def handle_maintenance(rt: Runtime, job: Job) -> None:
    """Worker entry point for `feed.maintain`."""
    await run_maintenance(await feed_settings(rt.settings))
