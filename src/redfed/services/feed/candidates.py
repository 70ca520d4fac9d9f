"""Candidate generation: ~1,000 note ids per request from interest tags × fresh notes,
neighbours of recent likes, trending in the person's languages, and new or small creators.

Retrieval only finds ids and why; filtering (visibility, mutes, seen…) happens in explore.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.expressions import Q

from redfed.ids import min_id_for
from redfed.models import FeedEvent, Note, NoteNeighbour, NoteTag, Tag, TrendingNote, Visibility

from .coengagement import SEED_LIKES, neighbour_scores
from .signals import recent_positive_ids
from .types import (
    SOURCE_INTEREST,
    SOURCE_NEIGHBOURS,
    SOURCE_NEW_CREATOR,
    SOURCE_TRENDING,
)
from .types import (
    FeedEvent as Kind,
)

FRESH_DAYS = 30  # how far back interest and popularity retrieval look
SMALL_CREATOR_FOLLOWERS = 1000  # RedNote's stated aim: traffic to creators under 1,000 followers
NEW_CREATOR_DAYS = 14
SOURCE_POPULAR = "popular"
_TOP_LEVEL = Q(in_reply_to_id__isnull=True, in_reply_to_uri="")


@dataclass
class Retrieved:
    """Candidate ids with the paths that found them and their co-engagement."""

    sources: dict[int, set[str]] = field(default_factory=dict)
    coengagement: dict[int, tuple[float, int | None]] = field(default_factory=dict)

    def add(self, ids: Sequence[int], source: str) -> None:
        for i in ids:
            self.sources.setdefault(int(i), set()).add(source)


async def _ids(query: object) -> list[int]:
    return [int(i) for i in await query]  # type: ignore[misc]


async def by_interest(tag_weights: Mapping[str, float], since: int, limit: int) -> list[int]:
    """Fresh notes under the person's strongest positive tags."""
    top = sorted((w, t) for t, w in tag_weights.items() if w > 0)[-8:]
    if not top:
        return []
    tag_ids = await Tag.filter(name__in=[t for _, t in top]).values_list("id", flat=True)
    if not tag_ids:
        return []
    return await _ids(
        NoteTag.filter(tag_id__in=list(tag_ids), note_id__gte=since)
        .order_by("-note_id")
        .limit(limit)
        .values_list("note_id", flat=True)
    )


async def by_neighbours(account_id: int) -> dict[int, tuple[float, int | None]]:
    """ "People who liked what you like, also liked": neighbours of recent likes, minus
    neighbours of notes marked "not interested"."""
    liked = await recent_positive_ids(account_id, SEED_LIKES)
    disliked = await _ids(
        FeedEvent.filter(account_id=account_id, kind=Kind.NOT_INTERESTED.value)
        .order_by("-id")
        .limit(10)
        .values_list("note_id", flat=True)
    )
    if not liked and not disliked:
        return {}
    rows = await NoteNeighbour.filter(note_id__in=[*liked, *disliked]).values_list(
        "note_id", "neighbour_id", "score"
    )
    table: dict[int, dict[int, float]] = {}
    for a, b, s in rows:
        table.setdefault(int(a), {})[int(b)] = float(s)
    return neighbour_scores(liked, table, disliked)


async def by_trending(languages: Sequence[str], limit: int) -> list[int]:
    query = TrendingNote.all()
    if languages:
        query = query.filter(language__in=list(languages))
    return await _ids(query.order_by("-score").limit(limit).values_list("note_id", flat=True))


async def by_new_creators(since: int, now: datetime, limit: int) -> list[int]:
    """Fresh public notes of small (few followers) or new accounts."""
    small = Q(account__followers_count__lt=SMALL_CREATOR_FOLLOWERS) | Q(
        account__created_at__gte=now - timedelta(days=NEW_CREATOR_DAYS)
    )
    return await _ids(
        Note.filter(small, _TOP_LEVEL, id__gte=since, visibility=Visibility.PUBLIC)
        .order_by("-id")
        .limit(limit)
        .values_list("id", flat=True)
    )


async def by_popularity(since: int, limit: int) -> list[int]:
    """The most engaged fresh notes: the non-personalised backbone (and all anonymous get)."""
    return await _ids(
        Note.filter(_TOP_LEVEL, id__gte=since, visibility=Visibility.PUBLIC)
        .order_by("-engagement", "-id")
        .limit(limit)
        .values_list("id", flat=True)
    )


async def gather(
    account_id: int | None,
    tag_weights: Mapping[str, float],
    languages: Sequence[str],
    now: datetime,
    limit: int = 1000,
) -> Retrieved:
    """About `limit` candidate ids for one request, each with its retrieval paths."""
    since = min_id_for(now - timedelta(days=FRESH_DAYS))
    out = Retrieved()
    if account_id is not None:
        out.coengagement = await by_neighbours(account_id)
        out.add([i for i, (s, _) in out.coengagement.items() if s > 0], SOURCE_NEIGHBOURS)
        out.add(await by_interest(tag_weights, since, limit * 2 // 5), SOURCE_INTEREST)
    out.add(await by_trending(languages, limit // 5), SOURCE_TRENDING)
    out.add(await by_new_creators(since, now, limit // 6), SOURCE_NEW_CREATOR)
    out.add(await by_popularity(since, max(100, limit - len(out.sources))), SOURCE_POPULAR)
    return out
