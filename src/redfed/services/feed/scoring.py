"""The linear score of feed candidates, keeping every term's contribution for "why this".

score = [co-engagement + log(1 + decayed engagement)] / (1 + author engagement)^α
        + IDF-weighted tag affinity + author affinity + language match + freshness + trending
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

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
    """Cosine-like affinity of each candidate's tags to the profile, and its best tag."""
    out = np.zeros(len(candidates))
    best_tags: list[str | None] = []
    for i, cand in enumerate(candidates):
        total, norm, best, best_val = 0.0, 0.0, None, 0.0
        for tag in cand.tags:
            weight = idf.get(tag, 1.0) if idf is not None else 1.0
            norm += weight * weight
            contribution = tags.get(tag.lower(), 0.0) * weight
            total += contribution
            if contribution > best_val:
                best, best_val = tag, contribution
        out[i] = total / math.sqrt(norm) if norm > 0 else 0.0
        best_tags.append(best)
    return out, best_tags


def _lookup(candidates: Sequence[Candidate], table: Mapping[str, float], by_author: bool) -> Floats:
    if not table:
        return np.zeros(len(candidates))
    if by_author:
        keys = (str(c.author_id) for c in candidates)
    else:
        keys = ((c.language or "").lower() for c in candidates)
    return np.fromiter((table.get(k, 0.0) for k in keys), float, len(candidates))


def _unit(x: Floats) -> Floats:
    """Divide by the largest magnitude, so each signal spans [-1, 1] within one request.

    Raw co-engagement and engagement grow with the size of the server and the activity of the
    viewer; on one scale the weights in FeedSettings mean the same on a tiny and a busy server.
    """
    top = float(np.max(np.abs(x))) if len(x) else 0.0
    return x / top if top > 0 else x


def _column(candidates: Sequence[Candidate], name: str) -> Floats:
    return np.fromiter((getattr(c, name) for c in candidates), float, len(candidates))


def score_candidates(
    profile: InterestProfile,
    candidates: Sequence[Candidate],
    settings: FeedSettings,
    now: datetime,
    tag_idf: Mapping[str, float] | None = None,
) -> list[Scored]:
    """Score every candidate for one viewer; best first (ties: newer note first)."""
    if not candidates:
        return []
    s = settings
    weights = profile.weights(now, s.profile_half_life_days)
    tag_part, best_tags = _tag_affinity(candidates, _normalised(weights, "tag:"), tag_idf)
    author_part = np.clip(_lookup(candidates, _normalised(weights, "author:"), True), -3.0, 1.0)
    lang_part = np.clip(_lookup(candidates, _normalised(weights, "lang:"), False), -1.0, 1.0)
    coeng = _column(candidates, "coengagement")
    engagement = np.maximum(_column(candidates, "engagement"), 0.0)
    author_eng = np.maximum(_column(candidates, "author_engagement"), 0.0)
    # Damping divides every engagement-born term: co-engagement favours the big authors as much
    # as raw popularity does (their notes sit in everyone's neighbour lists).
    damping = np.power(1.0 + author_eng, s.alpha)
    popularity = _unit(np.log1p(engagement) / damping)
    published = np.fromiter((c.published_at.timestamp() for c in candidates), float)
    age_hours = np.maximum(now.timestamp() - published, 0.0) / _HOUR
    columns = np.vstack(
        [
            s.w_coengagement * _unit(np.sign(coeng) * np.log1p(np.abs(coeng)) / damping),
            s.w_tags * _unit(tag_part),
            s.w_author * author_part,
            s.w_popularity * popularity,
            s.w_language * lang_part,
            s.w_freshness * np.exp2(-age_hours / s.freshness_half_life_hours),
            s.w_trending * np.log1p(np.maximum(_column(candidates, "trending"), 0.0)),
        ]
    )
    totals = columns.sum(axis=0)
    order = sorted(range(len(candidates)), key=lambda i: (-totals[i], -candidates[i].note_id))
    rows = columns.T.tolist()
    return [
        Scored(candidates[i], float(totals[i]), ScoreParts(*rows[i]), best_tags[i]) for i in order
    ]
