"""Co-engagement neighbour maths: "people who liked what you like, also liked this".

When a person likes note B, B is paired with their last ~30 positive notes; each pair grows by
1/log(2+n), n being how many positives that person has, so hyperactive accounts count less.
Each note keeps only its top-K neighbours. Storage and scheduling belong to the callers.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence

RECENT_POSITIVES = 30
DEFAULT_TOP_K = 30


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


def merge_neighbours(
    current: Mapping[int, float], increments: Iterable[tuple[int, float]], k: int = DEFAULT_TOP_K
) -> dict[int, float]:
    """Add increments to one note's neighbour weights and keep the top k."""
    merged = dict(current)
    for other, inc in increments:
        merged[other] = merged.get(other, 0.0) + inc
    return top_neighbours(merged, k)


def neighbour_scores(
    recent_likes: Sequence[int],
    neighbours: Mapping[int, Mapping[int, float]],
    negative_ids: Iterable[int] = (),
    negative_weight: float = 1.0,
) -> dict[int, tuple[float, int | None]]:
    """Candidate note -> (co-engagement score, the liked note contributing most, if any).

    `recent_likes` newest first. Neighbours of notes the person marked "not interested" count
    against a candidate with `negative_weight` times their weight. At 3 (the tag penalty) it cost
    the hybrid .02 NDCG on the benchmark: a disliked note's neighbours are still what people
    with that taste watch, so the penalty is kept but no larger than a like (bench/README.md).
    """
    acc: dict[int, float] = {}
    best: dict[int, tuple[float, int]] = {}
    for liked in recent_likes:
        for other, w in neighbours.get(liked, {}).items():
            acc[other] = acc.get(other, 0.0) + w
            if other not in best or w > best[other][0]:
                best[other] = (w, liked)
    for bad in negative_ids:
        for other, w in neighbours.get(bad, {}).items():
            acc[other] = acc.get(other, 0.0) - negative_weight * w
    return {note: (score, best[note][1] if note in best else None) for note, score in acc.items()}
