"""Feed background jobs: decay of engagement and neighbours, trending per language, purge of
old events. Each run is bounded and re-enqueues itself for the next period.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F
from tortoise.functions import Count

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


def _period_key(now: datetime) -> str:
    return f"{KIND}:{int(now.timestamp() // PERIOD.total_seconds())}"


async def ensure_scheduled(now: datetime | None = None) -> None:
    """Enqueue this period's run unless it exists (idempotent: unique key per period)."""
    now = now or datetime.now(UTC)
    await jobs.enqueue(KIND, {}, unique_key=_period_key(now), run_at=now)


async def decay_signals(fs: FeedSettings, elapsed: timedelta) -> None:
    """Multiply stored engagement and neighbour weights by this period's decay factor."""
    seconds = elapsed.total_seconds()
    f_eng = decay_factor(seconds, fs.engagement_half_life_days)
    f_nb = decay_factor(seconds, fs.neighbour_half_life_days)
    f_author = decay_factor(seconds, fs.author_half_life_days)  # long horizon: see FeedSettings
    await Note.filter(engagement__gt=_FLOOR).update(engagement=F("engagement") * f_eng)
    await Note.filter(engagement__gt=0, engagement__lte=_FLOOR).update(engagement=0.0)
    await AuthorEngagement.filter(engagement__gt=0).update(engagement=F("engagement") * f_author)
    await NoteNeighbour.all().update(score=F("score") * f_nb)
    await NoteNeighbour.filter(score__lt=_FLOOR).delete()


async def recompute_trending(now: datetime) -> int:
    """Replace the trending table with the last day's trends (trending.trending_scores)."""
    since = now - TRENDING_WINDOW
    positive = [Kind.LIKE.value, Kind.COLLECT.value, Kind.COMMENT.value, Kind.SHARE.value]
    rows = (
        await FeedEvent.filter(created_at__gte=since, kind__in=positive, note_id__isnull=False)
        .annotate(n=Count("id"))
        .group_by("note_id")
        .values_list("note_id", "n")
    )
    counts = {int(n): int(c) for n, c in rows if int(c) > 1}
    notes = await Note.filter(
        id__in=list(counts), visibility=Visibility.PUBLIC, sensitive=False
    ).values_list("id", "language")
    scores = trending_scores(counts, {int(i): str(lang) for i, lang in notes})
    fresh = [
        TrendingNote(note_id=i, language=lang, score=score) for i, (lang, score) in scores.items()
    ]
    await TrendingNote.all().delete()
    await TrendingNote.bulk_create(fresh)
    return len(fresh)


async def run_maintenance(fs: FeedSettings, now: datetime | None = None) -> None:
    """One period: decay, trending, purge; then schedule the next period."""
    now = now or datetime.now(UTC)
    await decay_signals(fs, PERIOD)
    trending = await recompute_trending(now)
    purged = await purge_old_events(now)
    log.info("feed.maintained trending=%d purged=%d", trending, purged)
    nxt = now + PERIOD
    await jobs.enqueue(KIND, {}, unique_key=_period_key(nxt), run_at=nxt)


async def handle_maintenance(rt: Runtime, job: Job) -> None:
    """Worker entry point for `feed.maintain`."""
    await run_maintenance(await feed_settings(rt.settings))
