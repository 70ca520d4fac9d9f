"""Co-engagement neighbour maths: "people who liked what you like, also liked this".

When a person likes note B, B is paired with their last 100 positive notes; each pair grows by
1/log(2+n), n being how many positives that person has, so hyperactive accounts count less.
Stored weights are these decayed co-counts. Each note keeps its top-K neighbours by *lift*, the
co-count over sqrt(the neighbour's own engagement + a prior), and requests weigh neighbours by
the same lift, so a note everybody likes does not become everybody's neighbour. Storage and
scheduling belong to the callers.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence

# Pairs per like: 100 beat 30 by +.02 NDCG on the benchmark (a session of likes pairs fully).
RECENT_POSITIVES = 100
# Seeds of a request: the viewer's latest likes whose neighbours are looked up. 40, with lift:
# lift spreads each seed's row over less-liked notes, and ten more seeds let the rows agree on
# what is relevant (30 → 40 without lift cost catalogue coverage below target; bench/README.md).
SEED_LIKES = 40
DEFAULT_TOP_K = 30
# Lift prior, in units of a note's decayed engagement (≈ likes this week). Lift divides a
# co-count by sqrt(engagement + prior): a note liked by a few is not a perfect neighbour on the
# strength of one shared like, and on a quiet server (every note far below the prior) lift
# ranks neighbours as the raw co-counts do; only notes well above it, the ones in every
# person's likes, are held back. 20 beat 5, 10 and 40–50 on the tuning windows.
LIFT_PRIOR = 20.0


def pair_increment(user_positive_count: int) -> float:
    """How much one pair grows for a person with this many positive events."""
    return 1.0 / math.log(2.0 + max(0, user_positive_count))


def like_increments(
    note_id: int,
    recent_positive_ids: Sequence[int],
    user_positive_count: int,
    max_pairs: int = RECENT_POSITIVES,
) -> list[tuple[int, int, float]]:
    """(note, neighbour, increment) rows, both directions, for one new like of `note_id`.

    `recent_positive_ids` is newest first; the note itself and repeats are skipped.
    """
    inc = pair_increment(user_positive_count)
    rows: list[tuple[int, int, float]] = []
    seen = {note_id}
    for other in recent_positive_ids:
        if other in seen:
            continue
        seen.add(other)
        rows.append((note_id, other, inc))
        rows.append((other, note_id, inc))
        if len(rows) >= 2 * max_pairs:
            break
    return rows


def decay_factor(elapsed_seconds: float, half_life_days: float) -> float:
    """How much a neighbour weight keeps after `elapsed_seconds` (2^(−Δt/H)).

    Without decay the pairs formed by years-old blockbusters outweigh everything liked lately;
    the maintenance job multiplies every stored weight by this factor once a period.
    """
    return float(2.0 ** (-max(0.0, elapsed_seconds) / (half_life_days * 86400.0)))


def decay_neighbours(
    weights: Mapping[int, float], factor: float, floor: float = 1e-3
) -> dict[int, float]:
    """One note's neighbour weights times `factor`, dropping those that fell below `floor`."""
    return {other: w * factor for other, w in weights.items() if w * factor >= floor}


def lift(weight: float, engagement: float, prior: float = LIFT_PRIOR) -> float:
    """A co-count relative to the neighbour's own engagement: weight / sqrt(engagement + prior).

    Raw co-counts rank the most liked notes first in every row (they co-occur with anything);
    cosine-like lift asks how much of the neighbour's engagement comes with this note. The
    square root and the prior keep it from favouring notes liked only once (a full 1/n lift cut
    the tuning windows' NDCG to ~0: single-like notes filled every row).
    """
    return weight / math.sqrt(max(engagement, 0.0) + prior)


def lifted(weights: Mapping[int, float], engagement: Mapping[int, float]) -> dict[int, float]:
    """One note's neighbour co-counts as lifts (a neighbour missing from `engagement` has 0)."""
    return {other: lift(w, engagement.get(other, 0.0)) for other, w in weights.items()}


def top_neighbours(
    weights: Mapping[int, float],
    k: int = DEFAULT_TOP_K,
    engagement: Mapping[int, float] | None = None,
) -> dict[int, float]:
    """The k strongest neighbours, their weights unchanged (ties: the smaller id, so the result
    is stable). With `engagement` (note -> decayed engagement) they are ranked by lift."""
    if len(weights) <= k:
        return dict(weights)
    rank = weights if engagement is None else lifted(weights, engagement)
    best = heapq.nsmallest(k, rank.items(), key=lambda kv: (-kv[1], kv[0]))
    return {other: weights[other] for other, _ in best}


def merge_neighbours(
    current: Mapping[int, float],
    increments: Iterable[tuple[int, float]],
    k: int = DEFAULT_TOP_K,
    engagement: Mapping[int, float] | None = None,
) -> dict[int, float]:
    """Add increments to one note's neighbour co-counts and keep the top k (by lift with
    `engagement`, as `top_neighbours`)."""
    merged = dict(current)
    for other, inc in increments:
        merged[other] = merged.get(other, 0.0) + inc
    return top_neighbours(merged, k, engagement)


def neighbour_scores(
    recent_likes: Sequence[int],
    neighbours: Mapping[int, Mapping[int, float]],
    negative_ids: Iterable[int] = (),
    negative_weight: float = 1.0,
    engagement: Mapping[int, float] | None = None,
) -> dict[int, tuple[float, int | None]]:
    """Candidate note -> (co-engagement score, the liked note contributing most, if any).

    With `engagement` (neighbour note -> decayed engagement), rows are weighed by lift, as they
    were chosen (`top_neighbours`).

    Each seed's neighbour weights are divided by that seed's strongest one before they are
    summed: a blockbuster's row holds weights many times those of a niche note's, and a raw sum
    let one such seed drown all the others (+.01–.02 NDCG, less head share; bench/README.md).
    Neighbours of notes marked "not interested" count against a candidate with
    `negative_weight` times their (likewise scaled) weight; 3 cost the hybrid .02 NDCG: a
    disliked note's neighbours are still what people with that taste watch.
    """

    def row(note: int) -> dict[int, float]:
        weights = neighbours.get(note, {})
        return _scaled(weights if engagement is None else lifted(weights, engagement))

    acc: dict[int, float] = {}
    best: dict[int, tuple[float, int]] = {}
    for liked in recent_likes:
        for other, w in row(liked).items():
            acc[other] = acc.get(other, 0.0) + w
            if other not in best or w > best[other][0]:
                best[other] = (w, liked)
    for bad in negative_ids:
        for other, w in row(bad).items():
            acc[other] = acc.get(other, 0.0) - negative_weight * w
    return {note: (score, best[note][1] if note in best else None) for note, score in acc.items()}


def _scaled(row: Mapping[int, float]) -> dict[int, float]:
    """One seed's neighbour weights over its strongest positive weight (so they span (0, 1])."""
    top = max(row.values(), default=0.0)
    return {other: w / top for other, w in row.items()} if top > 0 else {}
