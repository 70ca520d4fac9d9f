"""Small builders for feed tests: candidates and scored items from plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redfed.services.feed.types import Candidate, Scored, ScoreParts

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def cand(
    note_id: int,
    author_id: int | None = None,
    tags: tuple[str, ...] = (),
    *,
    language: str | None = "en",
    hours_old: float = 1.0,
    small: bool = False,
    **signals: float,
) -> Candidate:
    return Candidate(
        note_id=note_id,
        author_id=note_id if author_id is None else author_id,
        tags=frozenset(tags),
        language=language,
        published_at=NOW - timedelta(hours=hours_old),
        author_is_small_or_new=small,
        **signals,
    )


def scored(c: Candidate, score: float) -> Scored:
    return Scored(c, score, ScoreParts(popularity=score))
