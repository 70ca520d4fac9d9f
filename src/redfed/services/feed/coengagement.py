"""Co-engagement neighbour maths: "people who liked what you like, also liked this".

When a person likes note B, B is paired with their last 100 positive notes; each pair grows by
1/log(2+n), n being how many positives that person has, so hyperactive accounts count less.
Each note stores its STORED_NEIGHBOURS strongest pairs and serves the top DEFAULT_TOP_K of them.
Storage and scheduling belong to the callers.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence

# Pairs per like: 100 beat 30 by +.02 NDCG on the benchmark (a session of likes pairs fully).
RECENT_POSITIVES = 100
# Seeds of a request: the viewer's latest likes whose neighbours are looked up.
SEED_LIKES = 30
# Neighbours a note serves to ranking.
DEFAULT_TOP_K = 30
# Pairs a note stores: a buffer above what it serves. Rows are trimmed after every like, and a
# row trimmed to exactly what it serves never lets a slowly growing pair in (each new pair
# starts from one increment against incumbents that had months to grow), so rows froze around
# early, popular neighbours: on the benchmark the top-1 % authors' share went from .148 (rows
# counted in full) to .161 with 30 stored, .157 with 60, .159 with 100 and .152 with 150
# (bench/README.md, round 5).
STORED_NEIGHBOURS = 150


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


def top_neighbours(weights: Mapping[int, float], k: int = DEFAULT_TOP_K) -> dict[int, float]:
    """The k strongest neighbours (ties broken by the smaller id, so the result is stable)."""
    if len(weights) <= k:
        return dict(weights)
    best = heapq.nsmallest(k, weights.items(), key=lambda kv: (-kv[1], kv[0]))
    return dict(best)


def neighbour_scores(
    recent_likes: Sequence[int],
    neighbours: Mapping[int, Mapping[int, float]],
    negative_ids: Iterable[int] = (),
    negative_weight: float = 1.0,
) -> dict[int, tuple[float, int | None]]:
    """Candidate note -> (co-engagement score, the liked note contributing most, if any).

    Each seed's neighbour weights are divided by that seed's strongest one before they are
    summed: a blockbuster's row holds weights many times those of a niche note's, and a raw sum
    let one such seed drown all the others (+.01–.02 NDCG, less head share; bench/README.md).
    Neighbours of notes marked "not interested" count against a candidate with
    `negative_weight` times their (likewise scaled) weight; 3 cost the hybrid .02 NDCG: a
    disliked note's neighbours are still what people with that taste watch.
    """
    acc: dict[int, float] = {}
    best: dict[int, tuple[float, int]] = {}
    for liked in recent_likes:
        for other, w in _scaled(neighbours.get(liked, {})).items():
            acc[other] = acc.get(other, 0.0) + w
            if other not in best or w > best[other][0]:
                best[other] = (w, liked)
    for bad in negative_ids:
        for other, w in _scaled(neighbours.get(bad, {})).items():
            acc[other] = acc.get(other, 0.0) - negative_weight * w
    return {note: (score, best[note][1] if note in best else None) for note, score in acc.items()}


def _scaled(row: Mapping[int, float]) -> dict[int, float]:
    """One seed's neighbour weights over its strongest positive weight (so they span (0, 1])."""
    top = max(row.values(), default=0.0)
    return {other: w / top for other, w in row.items()} if top > 0 else {}
