"""Scoring: each part moves the score the right way, parts add up, damping, cold start."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from redfed.services.feed.profile import empty_profile, profile_from_interests
from redfed.services.feed.scoring import score_candidates
from redfed.services.feed.types import FeedSettings

from .helpers import NOW, cand

S = FeedSettings()


def by_id(scored):
    return {s.candidate.note_id: s for s in scored}


def test_parts_add_up_and_order_is_best_first():
    p = profile_from_interests(["travel"], ["en"], NOW, S)
    cands = [cand(1, tags=("travel",), engagement=3.0, coengagement=2.0), cand(2, tags=("cars",))]
    out = score_candidates(p, cands, S, NOW)
    assert [s.candidate.note_id for s in out] == [1, 2]
    for s in out:
        assert s.score == pytest.approx(s.parts.total())


def test_cold_start_profile_prefers_signup_interests_and_language():
    p = profile_from_interests(["travel", "food"], ["zh"], NOW, S)
    cands = [
        cand(1, tags=("cars",), language="en"),
        cand(2, tags=("travel",), language="zh"),
        cand(3, tags=("food", "cars"), language="en"),
    ]
    out = by_id(score_candidates(p, cands, S, NOW))
    assert out[2].score > out[3].score > out[1].score
    assert out[2].top_tag == "travel" and out[2].parts.language > 0 == out[1].parts.language


def test_idf_makes_rare_shared_tags_count_more():
    p = profile_from_interests(["common", "rare"], [], NOW, S)
    idf = {"common": 0.1, "rare": 3.0}
    cands = [cand(1, tags=("common", "x")), cand(2, tags=("rare", "y"))]
    out = by_id(score_candidates(p, cands, S, NOW, idf))
    assert out[2].parts.tags > out[1].parts.tags


def test_author_damping_lowers_big_authors_popularity():
    big = cand(1, engagement=10.0, author_engagement=1000.0)
    small = cand(2, engagement=10.0, author_engagement=0.0)
    flat = by_id(score_candidates(empty_profile(), [big, small], replace(S, alpha=0.0), NOW))
    damped = by_id(
        score_candidates(
            empty_profile(), [big, small], replace(S, alpha=1.0), NOW, author_median=10
        )
    )
    assert flat[1].parts.popularity == pytest.approx(flat[2].parts.popularity)
    # Relative to the median author: 100× the median is damped by 1 + 100.
    assert damped[1].parts.popularity == pytest.approx(damped[2].parts.popularity / 101)


def test_damping_is_relative_to_the_median_author():
    import numpy as np

    from redfed.services.feed.scoring import author_damping

    e = np.array([0.0, 5.0, 10.0, 20.0])
    assert author_damping(e, 1.0).tolist() == pytest.approx([1.0, 1.5, 2.0, 3.0])
    assert author_damping(e * 1000, 1.0).tolist() == pytest.approx([1.0, 1.5, 2.0, 3.0])


def test_vectorised_tag_affinity_matches_the_plain_formula():
    import math

    p = profile_from_interests(["a", "b"], [], NOW, S)
    idf = {"a": 2.0, "b": 0.5, "c": 1.5}
    cands = [cand(1, tags=("a", "c")), cand(2, tags=()), cand(3, tags=("b",)), cand(4, tags=("c",))]
    out = by_id(score_candidates(p, cands, replace(S, w_tags=1.0), NOW, idf))
    raw = {1: 2.0 / math.sqrt(4 + 2.25), 2: 0.0, 3: 0.5 / 0.5, 4: 0.0}
    top = max(raw.values())
    for i, r in raw.items():
        assert out[i].parts.tags == pytest.approx(r / top)
    assert [out[i].top_tag for i in (1, 2, 3, 4)] == ["a", None, "b", None]


def test_limit_keeps_the_best_and_small_creators_below_them():
    cands = [cand(i, engagement=float(i), small=(i == 1)) for i in range(1, 30)]
    out = score_candidates(empty_profile(), cands, S, NOW, limit=5)
    ids = [s.candidate.note_id for s in out]
    assert ids[:5] == [29, 28, 27, 26, 25] and ids[5:] == [1]


def test_fresher_notes_score_higher_all_else_equal():
    out = by_id(
        score_candidates(empty_profile(), [cand(1, hours_old=1), cand(2, hours_old=500)], S, NOW)
    )
    assert out[1].parts.freshness > out[2].parts.freshness > 0


def test_negative_feedback_pushes_a_note_down():
    p = profile_from_interests(["cats"], [], NOW, S)
    liked = by_id(score_candidates(p, [cand(1, tags=("cats",)), cand(2, tags=("dogs",))], S, NOW))
    from redfed.services.feed.profile import apply_event
    from redfed.services.feed.types import FeedEvent

    p = apply_event(
        p, FeedEvent.NOT_INTERESTED, tags=["cats"], author_id=1, language=None, now=NOW, settings=S
    )
    after = by_id(score_candidates(p, [cand(1, tags=("cats",)), cand(2, tags=("dogs",))], S, NOW))
    assert liked[1].score > liked[2].score
    assert after[1].score < after[2].score


def test_empty_candidate_list():
    assert score_candidates(empty_profile(), [], S, NOW) == []


def test_trending_is_relative_to_the_top_trend_and_damped_like_popularity():
    top = cand(1, trending=81.0)
    half = cand(2, trending=8.0)
    big = cand(3, trending=81.0, author_engagement=1000.0)
    quiet = cand(4)
    out = by_id(
        score_candidates(
            empty_profile(), [top, half, big, quiet], replace(S, alpha=1.0), NOW, author_median=10
        )
    )
    assert out[1].parts.trending == pytest.approx(S.w_trending)
    assert out[2].parts.trending == pytest.approx(S.w_trending * math.log(9) / math.log(82))
    assert out[3].parts.trending == pytest.approx(S.w_trending / 101)
    assert out[4].parts.trending == 0.0
