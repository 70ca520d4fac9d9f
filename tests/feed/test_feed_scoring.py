"""Scoring: each part moves the score the right way, parts add up, damping, cold start."""

from __future__ import annotations

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
    damped = by_id(score_candidates(empty_profile(), [big, small], replace(S, alpha=1.0), NOW))
    assert flat[1].parts.popularity == pytest.approx(flat[2].parts.popularity)
    assert damped[1].parts.popularity < damped[2].parts.popularity / 100


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
