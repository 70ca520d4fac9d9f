"""Candidate generation: ~1,000 note ids per request from interest tags × fresh notes,
neighbours of recent likes, trending in the person's languages, and new or small creators.

Retrieval only finds ids and why; filtering (visibility, mutes, seen…) happens in explore.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise import connections
from tortoise.expressions import Q
from tortoise.signals import post_save

from redfed.ids import min_id_for
from redfed.models import Note, TrendingNote, Visibility
from redfed.services.visibility import as_datetime, ids_in_sql, raw_rows

from .coengagement import DEFAULT_TOP_K, SEED_LIKES, neighbour_scores
from .signals import POSITIVE_KINDS
from .types import (
    SOURCE_INTEREST,
    SOURCE_NEIGHBOURS,
    SOURCE_NEW_CREATOR,
    SOURCE_TRENDING,
)
from .types import (
    FeedEvent as Kind,
)

log = logging.getLogger(__name__)

FRESH_DAYS = 30  # how far back interest and popularity retrieval look
SMALL_CREATOR_FOLLOWERS = 1000  # RedNote's stated aim: traffic to creators under 1,000 followers
NEW_CREATOR_DAYS = 14
SOURCE_POPULAR = "popular"
_TOP_LEVEL = Q(in_reply_to_id__isnull=True, in_reply_to_uri="")


@dataclass
class Retrieved:
    """Candidate ids with the paths that found them, their co-engagement and trending score."""

    sources: dict[int, set[str]] = field(default_factory=dict)
    coengagement: dict[int, tuple[float, int | None]] = field(default_factory=dict)
    trending: dict[int, float] = field(default_factory=dict)

    def add(self, ids: Sequence[int], source: str) -> None:
        for i in ids:
            self.sources.setdefault(int(i), set()).add(source)


async def _ids(query: object) -> list[int]:
    return [int(i) for i in await query]  # type: ignore[misc]


async def by_interest(tag_weights: Mapping[str, float], since: int, limit: int) -> list[int]:
    """Fresh notes under the person's strongest positive tags: the newest `limit` of them.

    One bounded index range per tag (newest first, at most `limit` each), merged here. With
    all tags in one `tag_id IN (…) ORDER BY note_id DESC`, PostgreSQL walked the (note_id,
    tag_id) index backwards until enough matched: for rare tags most of the month (≈ 50 ms
    at 1M notes)."""
    top = sorted((w, t) for t, w in tag_weights.items() if w > 0)[-8:]
    if not top:
        return []
    # Constant SQL (the limit is an int); tag names and `since` travel as parameters.
    newest = (
        "SELECT note_id FROM note_tags WHERE tag_id = (SELECT id FROM tags WHERE name = {})"
        " AND note_id >= {} ORDER BY 1 DESC"
    )
    sql = " UNION ALL ".join(
        f"SELECT * FROM ({newest} LIMIT {int(limit)}) t{k}"  # noqa: S608
        for k in range(len(top))
    )
    params: list[object] = []
    for _weight, name in top:
        params += [name, since]
    rows = await raw_rows(sql, params)
    return heapq.nlargest(limit, {int(r[0]) for r in rows})


# Each seed's strongest DEFAULT_TOP_K stored pairs (a note stores more: coengagement.py), in
# the order coengagement.top_neighbours keeps them.
_SERVED_NEIGHBOURS = (
    "SELECT note_id, neighbour_id, score FROM (SELECT note_id, neighbour_id, score,"
    " ROW_NUMBER() OVER (PARTITION BY note_id ORDER BY score DESC, neighbour_id) AS pos"
    " FROM note_neighbours WHERE {seeds}) AS ranked WHERE pos <= {{}}"
)


async def by_neighbours(account_id: int) -> dict[int, tuple[float, int | None]]:
    """ "People who liked what you like, also liked": neighbours of recent likes, minus
    neighbours of notes marked "not interested"."""
    liked, disliked = await _liked_and_disliked(account_id)
    if not liked and not disliked:
        return {}
    seeds, param = ids_in_sql("note_id", [*liked, *disliked])
    rows = await raw_rows(_SERVED_NEIGHBOURS.format(seeds=seeds), [param, DEFAULT_TOP_K])
    table: dict[int, dict[int, float]] = {}
    for a, b, s in rows:
        table.setdefault(int(a), {})[int(b)] = float(s)
    return neighbour_scores(liked, table, disliked)


# The latest positive events (as signals.recent_positive_ids) and "not interested" marks, in
# one statement; the id orders them newest first.
_LIKED_AND_DISLIKED = (  # placeholders only
    "SELECT * FROM (SELECT id, note_id, 1 FROM feed_events WHERE account_id = {}"  # noqa: S608
    f" AND kind IN ({', '.join('{}' for _ in POSITIVE_KINDS)}) AND note_id IS NOT NULL"
    " ORDER BY id DESC LIMIT {}) liked"
    " UNION ALL SELECT * FROM (SELECT id, note_id, 0 FROM feed_events WHERE account_id = {}"
    " AND kind = {} AND note_id IS NOT NULL ORDER BY id DESC LIMIT {}) disliked"
)
_DISLIKED_SEEDS = 10


async def _liked_and_disliked(account_id: int) -> tuple[list[int], list[int]]:
    params = [account_id, *POSITIVE_KINDS, 2 * SEED_LIKES]
    params += [account_id, Kind.NOT_INTERESTED.value, _DISLIKED_SEEDS]
    rows = sorted(await raw_rows(_LIKED_AND_DISLIKED, params), key=lambda r: -int(r[0]))
    liked = list(dict.fromkeys(int(r[1]) for r in rows if r[2] == 1))[:SEED_LIKES]
    return liked, [int(r[1]) for r in rows if r[2] == 0]


async def by_trending(languages: Sequence[str], limit: int) -> dict[int, float]:
    """The best trending notes in the person's languages (all languages when none), with
    their trending score (maintenance.recompute_trending)."""
    query = TrendingNote.all()
    if languages:
        query = query.filter(language__in=list(languages))
    rows = await query.order_by("-score").limit(limit).values_list("note_id", "score")
    return {int(i): float(s) for i, s in rows}


async def by_new_creators(since: int, now: datetime, limit: int) -> list[int]:
    """Fresh public notes of small (few followers) or new accounts (from the shared pools)."""
    return _newest(await _current_pools(now), since, limit)


async def by_popularity(since: int, limit: int) -> list[int]:
    """The most engaged fresh notes: the non-personalised backbone (and all anonymous get)."""
    return _most_engaged(await _current_pools(datetime.now(UTC)), since, limit)


def _newest(pools: _Pools, since: int, limit: int) -> list[int]:
    return [i for i in pools.new_creators if i >= since][:limit]


def _most_engaged(pools: _Pools, since: int, limit: int) -> list[int]:
    return [i for _e, i in pools.popular if i >= since][:limit]


# --- viewer-independent pools ---------------------------------------------------------------
# Popular and new-creator retrieval do not depend on the viewer but sorted the notes table on
# every request (≈ 130 ms at 100k notes on SQLite). They are kept here per process: rebuilt
# every POOL_TTL (in the background once built), and topped up on each request with the
# notes posted since (a primary-key range, a handful of rows). Staleness only changes which
# candidates are considered: eligibility is always checked on the live rows afterwards.

POOL_TTL = 120.0  # seconds between full rebuilds
POOL_SIZE = 1000  # ≥ gather's default limit: the popular pool serves anonymous pages alone
NEW_POOL_SIZE = 500
_TOP_UP_MAX = 2000
_TOP_UP_SQL = (
    "SELECT n.id, n.engagement, n.visibility, n.in_reply_to_id, n.in_reply_to_uri,"
    " a.followers_count, a.created_at FROM {} n JOIN accounts a ON a.id = n.account_id"
)  # more fresh notes than this since the last build: rebuild instead


@dataclass
class _Pools:
    conn: object  # the database client the pools were read from (tests reopen databases)
    built: float  # time.monotonic() of the full build
    high_id: int  # the newest note id looked at
    popular: list[tuple[float, int]]  # (engagement, id), best first
    new_creators: list[int]  # newest first


_pools: _Pools | None = None
_rebuilding: set[asyncio.Task[None]] = set()
_pending: set[int] = set()  # ids saved in this process since the last full build


def reset_pools() -> None:
    """Forget the cached pools (the next request rebuilds them)."""
    global _pools
    _pools = None


async def _current_pools(now: datetime) -> _Pools:
    global _pools
    conn = connections.get("default")
    pools = _pools
    if pools is None or pools.conn is not conn:
        pools = _pools = await _build_pools(conn, now)
        return pools
    if time.monotonic() - pools.built > POOL_TTL and not _rebuilding:
        task = asyncio.create_task(_rebuild_in_background(conn, now))
        _rebuilding.add(task)
        task.add_done_callback(_rebuilding.discard)
    if not await _top_up(pools, now):
        pools = _pools = await _build_pools(conn, now)
    return pools


async def _rebuild_in_background(conn: object, now: datetime) -> None:
    global _pools
    try:
        fresh = await _build_pools(conn, now)
    except Exception:  # a failed refresh keeps the old pools; the next request retries
        log.exception("feed.pools_rebuild_failed")
        return
    if _pools is not None and _pools.conn is conn:
        _pools = fresh


async def _build_pools(conn: object, now: datetime) -> _Pools:
    _pending.clear()  # the build reads every note as it is now
    since = min_id_for(now - timedelta(days=FRESH_DAYS))
    public = Note.filter(_TOP_LEVEL, id__gte=since, visibility=Visibility.PUBLIC)
    high = await _ids(Note.all().order_by("-id").limit(1).values_list("id", flat=True))
    popular = (
        await public.order_by("-engagement", "-id").limit(POOL_SIZE).values_list("engagement", "id")
    )
    new = await _ids(
        public.filter(_small_or_new(now))
        .order_by("-id")
        .limit(NEW_POOL_SIZE)
        .values_list("id", flat=True)
    )
    return _Pools(
        conn=conn,
        built=time.monotonic(),
        high_id=high[0] if high else 0,
        popular=[(float(e), int(i)) for e, i in popular],
        new_creators=new,
    )


def _small_or_new(now: datetime) -> Q:
    return Q(account__followers_count__lt=SMALL_CREATOR_FOLLOWERS) | Q(
        account__created_at__gte=now - timedelta(days=NEW_CREATOR_DAYS)
    )


@post_save(Note)
async def _note_saved(
    sender: type[Note], instance: Note, created: bool, using_db: object, update_fields: object
) -> None:
    """Notes saved in this process are re-read by the next top-up even when their id is older
    than the pools' newest (a back-dated id, an edit to public, new engagement). Writes from
    other processes or raw SQL wait for the next rebuild (≤ POOL_TTL)."""
    if len(_pending) < _TOP_UP_MAX:
        _pending.add(int(instance.id))


async def _top_up(pools: _Pools, now: datetime) -> bool:
    """Merge the notes posted since the last look; False when there are too many (rebuild).

    Filtered here, not in SQL: with `visibility = ?` in the WHERE, SQLite walks the
    (visibility, in_reply_to_id) index over every public note instead of the id range.
    """
    # Two plain primary-key reads: with `id > ? OR id IN (…)` SQLite walked the whole table.
    # The newest notes first, then their authors: joined before the LIMIT, PostgreSQL hashed
    # the whole accounts table against a scan of notes (13–19 ms a request).
    columns = "id, engagement, visibility, in_reply_to_id, in_reply_to_uri, account_id"
    recent = f"(SELECT {columns} FROM notes WHERE id > {{}} ORDER BY id LIMIT {_TOP_UP_MAX})"  # noqa: S608
    rows = await raw_rows(_TOP_UP_SQL.format(recent), [pools.high_id])
    if _pending:
        cond, param = ids_in_sql("n.id", sorted(_pending))
        rows += await raw_rows(f"{_TOP_UP_SQL.format('notes')} WHERE {cond}", [param])
        rows = list({r[0]: r for r in rows}.values())  # a pending note may also be new
    if len(rows) >= _TOP_UP_MAX or len(_pending) >= _TOP_UP_MAX:
        return False
    if not rows:
        return True
    new_since = now - timedelta(days=NEW_CREATOR_DAYS)
    seen = {int(r[0]) for r in rows}
    fresh = [r for r in rows if r[2] == Visibility.PUBLIC and r[3] is None and r[4] == ""]
    popular = [ei for ei in pools.popular if ei[1] not in seen]
    popular += [(float(r[1]), int(r[0])) for r in fresh]
    pools.popular = sorted(popular, key=lambda ei: (-ei[0], -ei[1]))[:POOL_SIZE]
    small = [
        int(r[0]) for r in fresh if r[5] < SMALL_CREATOR_FOLLOWERS or as_datetime(r[6]) >= new_since
    ]
    newest = small + [i for i in pools.new_creators if i not in seen]
    pools.new_creators = sorted(newest, reverse=True)[:NEW_POOL_SIZE]
    pools.high_id = max(pools.high_id, max(seen))
    return True


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
    out.trending = await by_trending(languages, limit // 5)
    out.add(list(out.trending), SOURCE_TRENDING)
    pools = await _current_pools(now)  # one top-up for both pools
    out.add(_newest(pools, since, limit // 6), SOURCE_NEW_CREATOR)
    out.add(_most_engaged(pools, since, max(100, limit - len(out.sources))), SOURCE_POPULAR)
    return out
