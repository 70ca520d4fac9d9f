"""Reasons: from the strongest parts, structured, worded in English and Chinese."""

from __future__ import annotations

from redfed.services.feed.explain import explain, reason_text
from redfed.services.feed.profile import profile_from_interests
from redfed.services.feed.scoring import score_candidates
from redfed.services.feed.types import FeedSettings, Reason, ReasonKind, Scored, ScoreParts

from .helpers import NOW, cand


def test_interest_tag_reason_names_the_tag_that_matched():
    s = FeedSettings(w_tags=1.0, w_freshness=0.1)
    p = profile_from_interests(["travel"], [], NOW, s)
    [top] = score_candidates(p, [cand(1, tags=("travel", "beach"))], s, NOW)
    reasons = explain(top)
    assert reasons[0] == Reason(ReasonKind.INTEREST_TAG, (("tag", "travel"),))
    assert reason_text(reasons[0], "en") == "You like #travel"
    assert reason_text(reasons[0], "zh-Hans") == "你喜欢 #travel"


def test_strongest_part_first_and_new_voice_always_named():
    c = cand(1, small=True, coengagement=1.0, via_note_id=42)
    parts = ScoreParts(coengagement=2.0, popularity=0.5, freshness=0.01)
    reasons = explain(Scored(c, parts.total(), parts))
    assert [r.kind for r in reasons] == [
        ReasonKind.NEW_VOICE,
        ReasonKind.COENGAGEMENT,
        ReasonKind.POPULAR,
    ]
    assert reasons[1].param("note_id") == "42"


def test_trending_reason_names_the_language():
    c = cand(1, language="zh", trending=3.0)
    parts = ScoreParts(trending=1.0)
    [reason] = explain(Scored(c, 1.0, parts))
    assert reason.kind is ReasonKind.TRENDING
    assert reason_text(reason, "zh") == "中文 热门"
    assert reason_text(reason, "en") == "Trending in Chinese"


def test_a_trending_note_is_trending_rather_than_popular():
    """Its popularity is the same recent engagement: one reason, "trending", carries both."""
    c = cand(1, language="zh", trending=3.0)
    parts = ScoreParts(popularity=1.2, language=0.3, trending=0.2)
    kinds = [r.kind for r in explain(Scored(c, parts.total(), parts))]
    assert kinds == [ReasonKind.TRENDING, ReasonKind.LANGUAGE]


def test_a_note_with_nothing_notable_still_gets_a_reason():
    assert explain(Scored(cand(1), 0.0, ScoreParts())) == [Reason(ReasonKind.FRESH)]
