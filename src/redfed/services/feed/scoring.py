"""The linear score of feed candidates, keeping every term's contribution for "why this".

score = [co-engagement + popularity + trending] / (1 + author reach / median)^α
        + IDF-weighted tag affinity + author affinity + language match + freshness

Popularity is a note's engagement decayed over days; an author's reach is their engagement
decayed over months (FeedSettings.author_half_life_days), so damping holds back the accounts
that dominate for long, not whichever note is hot this week.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import chain, repeat
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from .profile import InterestProfile
from .types import Candidate, FeedSettings, Scored, ScoreParts

_HOUR = 3600.0
Floats = npt.NDArray[np.float64]


def _normalised(weights: Mapping[str, float], prefix: str) -> dict[str, float]:
    """Weights under one prefix divided by the strongest positive one (at least 1).

    Long-time users pile up large weights; dividing keeps a heavy and a light user on the same
    scale, so one set of feed weights fits both.
    """
    n = len(prefix)
    picked = {k[n:]: w for k, w in weights.items() if k.startswith(prefix)}
    top = max([1.0, *picked.values()])
    return {k: w / top for k, w in picked.items()}


def _tag_affinity(
    candidates: Sequence[Candidate], tags: Mapping[str, float], idf: Mapping[str, float] | None
) -> tuple[Floats, list[str | None]]:
    """Cosine-like affinity of each candidate's tags to the profile, and its best tag.

    Vectorised: every (candidate, tag) pair is flattened once and looked up with C-level
    `map(dict.get, …)`, then summed per candidate with `np.add.reduceat`. Candidate tags are
    expected normalised (lower case), like profile keys.
    """
    n = len(candidates)
    lists = [c.tags for c in candidates]
    counts = np.fromiter(map(len, lists), np.int64, n)
    flat = list(chain.from_iterable(lists))
    if not flat or not tags:
        return np.zeros(n), [None] * n
    m = len(flat)
    pref = np.fromiter(map(tags.get, flat, repeat(0.0)), float, m)
    idf_w = np.ones(m) if idf is None else np.fromiter(map(idf.get, flat, repeat(1.0)), float, m)
    contrib = pref * idf_w
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    total, norm = np.zeros(n), np.zeros(n)
    # reduceat on an empty segment returns the next element, so only non-empty ones are summed.
    total[has] = np.add.reduceat(contrib, starts[has])
    norm[has] = np.add.reduceat(idf_w * idf_w, starts[has])
    out = np.divide(total, np.sqrt(norm), out=np.zeros(n), where=norm > 0)
    return out, _best_tags(flat, contrib, counts, n)


def _best_tags(
    flat: list[str], contrib: Floats, counts: npt.NDArray[np.int64], n: int
) -> list[str | None]:
    best: list[str | None] = [None] * n
    positive = np.flatnonzero(contrib > 0)
    if len(positive) == 0:
        return best
    owner = np.repeat(np.arange(n), counts)[positive]
    # Sort positives by (owner, -contribution, position): the first row of each owner wins.
    order = np.lexsort((positive, -contrib[positive], owner))
    first = np.concatenate(([True], owner[order][1:] != owner[order][:-1]))
    for pos, who in zip(positive[order][first].tolist(), owner[order][first].tolist(), strict=True):
        best[who] = flat[pos]
    return best


def _lookup(candidates: Sequence[Candidate], table: Mapping[str, float], by_author: bool) -> Floats:
    if not table:
        return np.zeros(len(candidates))
    if by_author:
        keys = (str(c.author_id) for c in candidates)
    else:
        keys = ((c.language or "").lower() for c in candidates)
    return np.fromiter((table.get(k, 0.0) for k in keys), float, len(candidates))


def _unit(x: Floats) -> Floats:
    """Divide by the largest magnitude, so a signal spans [-1, 1] within one request.

    Used for tag affinity and co-engagement, whose raw size grows with the viewer's activity.
    """
    top = float(np.max(np.abs(x))) if len(x) else 0.0
    return x / top if top > 0 else x


def _column(candidates: Sequence[Candidate], name: str) -> Floats:
    return np.fromiter(map(attrgetter(name), candidates), float, len(candidates))


def author_damping(author_eng: Floats, alpha: float, median: float | None = None) -> Floats:
    """(1 + e / median)^α: an author as engaged as the median one is damped by 2^α, not by e^α.

    Raw engagement grows with the server; relative to the median author the same α means the
    same on a tiny and a busy instance. `median` defaults to that of the positive values given.
    """
    e = np.maximum(author_eng, 0.0)
    if median is None:
        pos = e[e > 0]
        median = float(np.median(pos)) if len(pos) else 1.0
    return np.asarray(np.power(1.0 + e / max(median, 1e-9), alpha), dtype=float)


def popularity_signal(engagement: Floats, reference: float | None = None) -> Floats:
    """Engagement over the reference engagement (the busiest note of the server), in [0, 1].

    Linear on purpose: a log or a per-request rescale flattens the head, so a note with a
    tenth of the top note's engagement would look almost as popular (bench/README.md).
    """
    e = np.maximum(engagement, 0.0)
    ref = float(np.max(e)) if reference is None and len(e) else (reference or 0.0)
    return e / ref if ref > 0 else np.zeros_like(e)


def trending_signal(trending: Floats) -> Floats:
    """log(1 + trending score) over that of the top trending candidate, in [0, 1].

    Trending scores are (n − 1)² of a day's likes (trending.py): they grow with the server, so
    like popularity the term is relative; the log keeps one runaway note from flattening the
    rest of the trend list.
    """
    t = np.log1p(np.maximum(trending, 0.0))
    top = float(np.max(t)) if len(t) else 0.0
    return t / top if top > 0 else t


def score_candidates(
    profile: InterestProfile,
    candidates: Sequence[Candidate],
    settings: FeedSettings,
    now: datetime,
    tag_idf: Mapping[str, float] | None = None,
    *,
    author_median: float | None = None,
    engagement_reference: float | None = None,
    limit: int | None = None,
) -> list[Scored]:
    """Score every candidate for one viewer; best first (ties: newer note first).

    With `limit`, only the best `limit` (and up to `limit` small creators below them) are
    returned: building result objects costs more than the arithmetic.
    `author_median` (median decayed engagement of authors) and `engagement_reference` (the top
    note's decayed engagement) are server-wide; left out, they come from the candidates.
    """
    if not candidates:
        return []
    s = settings
    weights = profile.weights(now, s.profile_half_life_days)
    tag_part, best_tags = _tag_affinity(candidates, _normalised(weights, "tag:"), tag_idf)
    author_part = np.clip(_lookup(candidates, _normalised(weights, "author:"), True), -3.0, 1.0)
    lang_part = np.clip(_lookup(candidates, _normalised(weights, "lang:"), False), -1.0, 1.0)
    coeng = _column(candidates, "coengagement")
    # Damping divides every engagement-born term: co-engagement favours the big authors as much
    # as raw popularity does (their notes sit in everyone's neighbour lists), and an undamped
    # trending term brought the top-1 % authors' share back from .15 to .19 (bench/README.md).
    damping = author_damping(_column(candidates, "author_engagement"), s.alpha, author_median)
    popularity = popularity_signal(_column(candidates, "engagement"), engagement_reference)
    published = np.fromiter(
        map(datetime.timestamp, map(attrgetter("published_at"), candidates)), float
    )
    age_hours = np.maximum(now.timestamp() - published, 0.0) / _HOUR
    columns = np.vstack(
        [
            s.w_coengagement * _unit(np.sign(coeng) * np.log1p(np.abs(coeng))) / damping,
            s.w_tags * _unit(tag_part),
            s.w_author * author_part,
            s.w_popularity * popularity / damping,
            s.w_language * lang_part,
            s.w_freshness * np.exp2(-age_hours / s.freshness_half_life_hours),
            s.w_trending * trending_signal(_column(candidates, "trending")) / damping,
        ]
    )
    totals = columns.sum(axis=0)
    ids = np.fromiter(map(attrgetter("note_id"), candidates), np.int64, len(candidates))
    order = np.lexsort((-ids, -totals))
    if limit is not None and limit < len(order):
        order = _keep(order, candidates, limit)
    rows = columns.T.tolist()
    return [
        Scored(candidates[i], float(totals[i]), ScoreParts(*rows[i]), best_tags[i])
        for i in order.tolist()
    ]


def _keep(
    order: npt.NDArray[np.int64], candidates: Sequence[Candidate], limit: int
) -> npt.NDArray[np.int64]:
    """The best `limit`, plus the best `limit` small or new creators below them (the re-rank
    reserves slots for those, and they rank low by design)."""
    small = np.fromiter(
        map(attrgetter("author_is_small_or_new"), candidates), bool, len(candidates)
    )[order]
    rest = order[limit:][small[limit:]][:limit]
    return np.concatenate((order[:limit], rest))
