"""Trending per language (pure): one like is no trend, the top of each language is kept."""

from __future__ import annotations

from redfed.services.feed.trending import trending_scores


def test_scores_are_squared_likes_beyond_the_first_and_one_like_is_no_trend():
    out = trending_scores({1: 3, 2: 1, 3: 5}, {1: "en", 2: "en", 3: "zh"})
    assert out == {1: ("en", 4.0), 3: ("zh", 16.0)}


def test_each_language_keeps_only_its_best_notes():
    counts = {i: i + 1 for i in range(1, 8)}
    languages = {i: ("en" if i % 2 else "zh") for i in counts}
    out = trending_scores(counts, languages, per_language=2)
    assert out == {7: ("en", 49.0), 5: ("en", 25.0), 6: ("zh", 36.0), 4: ("zh", 16.0)}


def test_notes_that_may_not_trend_are_left_out():
    """Private or sensitive notes are not in `language_of` (the job reads only public ones)."""
    assert trending_scores({1: 9, 2: 9}, {2: "en"}) == {2: ("en", 64.0)}
