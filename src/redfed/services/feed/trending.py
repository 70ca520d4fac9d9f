"""Trending per language: notes that several local people engaged with in the last day.

Mastodon-like: a note liked, collected or commented n times in the window scores (n − 1)², so
one enthusiast is not a trend; only the top notes of each language are kept. Pure, so the
maintenance job and bench/feed_eval.py compute it with the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

TRENDING_WINDOW = timedelta(hours=24)
TRENDING_PER_LANGUAGE = 50


def trending_scores(
    positives: Mapping[int, int],
    language_of: Mapping[int, str],
    per_language: int = TRENDING_PER_LANGUAGE,
) -> dict[int, tuple[str, float]]:
    """note id -> (language, score) for the best `per_language` notes of each language.

    `positives` counts each note's positive events in the window; `language_of` holds the
    notes that may trend at all (public, not sensitive), so a note missing from it is skipped.
    """
    by_language: dict[str, list[tuple[float, int]]] = {}
    for note_id, count in positives.items():
        language = language_of.get(note_id)
        if count > 1 and language is not None:
            by_language.setdefault(language, []).append((float((count - 1) ** 2), note_id))
    return {
        note_id: (language, score)
        for language, scored in by_language.items()
        for score, note_id in sorted(scored, reverse=True)[:per_language]
    }
