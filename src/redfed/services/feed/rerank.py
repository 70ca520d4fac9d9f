"""Re-ranking a scored list into one page: greedy MMR on tag Jaccard, one note per author,
and a guaranteed share of slots for small or new creators.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from .types import FeedSettings, Scored


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def new_creator_quota(share: float, page_size: int) -> int:
    """Slots reserved for small or new creators (rounded half up: 25 % of 10 is 3)."""
    return min(page_size, max(0, math.floor(share * page_size + 0.5)))


def _pool(
    scored: Sequence[Scored], settings: FeedSettings, page_size: int, banned: frozenset[int]
) -> list[Scored]:
    """Unique notes from allowed authors: the best `mmr_pool`, plus enough small creators."""
    seen: set[int] = set()
    unique: list[Scored] = []
    for item in sorted(scored, key=lambda s: -s.score):
        c = item.candidate
        if c.note_id in seen or c.author_id in banned:
            continue
        seen.add(c.note_id)
        unique.append(item)
    pool = unique[: settings.mmr_pool]
    # Small creators rank low by design; keep a few outside the pool so the quota can be met.
    small = [s for s in unique[settings.mmr_pool :] if s.candidate.author_is_small_or_new]
    return pool + small[: 2 * page_size]


def rerank(
    scored: Sequence[Scored],
    settings: FeedSettings,
    page_size: int,
    already_shown_authors: Iterable[int] = (),
) -> list[Scored]:
    """One page of at most `page_size` notes, never two by the same author.

    Authors in `already_shown_authors` (e.g. on the previous page) are left out. At least
    `new_creator_share` of the slots go to small or new creators when there are enough of them.
    """
    pool = _pool(scored, settings, page_size, frozenset(already_shown_authors))
    if not pool or page_size <= 0:
        return []
    hi, lo = pool[0].score, min(s.score for s in pool)
    spread = (hi - lo) or 1.0
    relevance = [(s.score - lo) / spread for s in pool]
    max_sim = [0.0] * len(pool)
    alive = list(range(len(pool)))
    quota = new_creator_quota(settings.new_creator_share, page_size)
    lam = settings.mmr_lambda
    page: list[Scored] = []
    small_picked = 0
    while alive and len(page) < page_size:
        choices = alive
        if quota - small_picked >= page_size - len(page):
            # Every slot left is needed to meet the quota: only small creators may take it.
            choices = [i for i in alive if pool[i].candidate.author_is_small_or_new] or alive
        best = max(choices, key=lambda i: (lam * relevance[i] - (1 - lam) * max_sim[i], -i))
        pick = pool[best]
        page.append(pick)
        small_picked += pick.candidate.author_is_small_or_new
        author, tags = pick.candidate.author_id, pick.candidate.tags
        alive = [i for i in alive if pool[i].candidate.author_id != author]
        for i in alive:
            other = pool[i].candidate.tags
            # Disjoint tags (most pairs) have similarity 0: skip jaccard (its calls were
            # ~15 % of an Explore page's CPU at 1M notes, by cProfile).
            if not tags.isdisjoint(other):
                max_sim[i] = max(max_sim[i], jaccard(tags, other))
    return page
