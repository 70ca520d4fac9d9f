"""Interest profile: sign-up seeding, lazy decay, event weights, negative feedback, the cap."""

from __future__ import annotations

from datetime import timedelta

import pytest

from redfed.services.feed.profile import (
    apply_event,
    empty_profile,
    profile_from_interests,
    profile_from_json,
    profile_to_json,
    set_interest,
)
from redfed.services.feed.types import FeedEvent, FeedSettings

from .helpers import NOW

S = FeedSettings(profile_half_life_days=20.0)


def like(profile, tags, author=1, lang="en", now=NOW, event=FeedEvent.LIKE):
    return apply_event(
        profile, event, tags=tags, author_id=author, language=lang, now=now, settings=S
    )


def test_signup_interests_seed_tags_and_languages():
    p = profile_from_interests(["Travel", "food"], ["zh"], NOW, S)
    w = p.weights(NOW, S.profile_half_life_days)
    assert w == {"tag:travel": 2.0, "tag:food": 2.0, "lang:zh": 2.0}


def test_weight_halves_after_one_half_life_without_any_rewrite():
    p = like(empty_profile(), ["travel"])
    assert p.weight("tag:travel", NOW, 20.0) == pytest.approx(1.0)
    assert p.weight("tag:travel", NOW + timedelta(days=20), 20.0) == pytest.approx(0.5)
    assert p.weight("tag:travel", NOW + timedelta(days=40), 20.0) == pytest.approx(0.25)


def test_update_decays_old_weight_before_adding():
    p = like(empty_profile(), ["travel"])
    p = like(p, ["travel"], now=NOW + timedelta(days=20))
    assert p.weight("tag:travel", NOW + timedelta(days=20), 20.0) == pytest.approx(1.5)


def test_stronger_events_weigh_more_and_touch_author_and_language():
    liked = like(empty_profile(), ["cats"], author=7, lang="zh")
    collected = like(empty_profile(), ["cats"], author=7, event=FeedEvent.COLLECT)
    assert collected.weight("tag:cats", NOW, 20) > liked.weight("tag:cats", NOW, 20) > 0
    assert liked.weight("author:7", NOW, 20) > 0
    assert liked.weight("lang:zh", NOW, 20) > 0


def test_not_interested_turns_a_liked_tag_negative_but_spares_language():
    p = like(empty_profile(), ["cats"], lang="en")
    p = like(p, ["cats"], event=FeedEvent.NOT_INTERESTED)
    assert p.weight("tag:cats", NOW, 20) == pytest.approx(1.0 - 3.0)
    assert p.weight("lang:en", NOW, 20) > 0


def test_show_fewer_from_author_only_touches_the_author():
    p = like(empty_profile(), ["cats"], author=9)
    p = like(p, ["cats"], author=9, event=FeedEvent.SHOW_FEWER_FROM_AUTHOR)
    assert p.weight("author:9", NOW, 20) < 0
    assert p.weight("tag:cats", NOW, 20) == pytest.approx(1.0)


def test_dwell_is_scaled_by_time_and_capped():
    def dwell(seconds):
        p = apply_event(
            empty_profile(),
            FeedEvent.DWELL,
            tags=["x"],
            author_id=None,
            language=None,
            now=NOW,
            settings=S,
            dwell_seconds=seconds,
        )
        return p.weight("tag:x", NOW, 20)

    assert dwell(0) == 0.0
    assert dwell(15) < dwell(30) < dwell(600) == dwell(3600)


def test_cap_keeps_the_strongest_magnitudes_including_negatives():
    small = FeedSettings(profile_max_keys=10)
    p = empty_profile()
    for i in range(30):
        p = apply_event(
            p,
            FeedEvent.LIKE,
            tags=[f"t{i}"],
            author_id=None,
            language=None,
            now=NOW + timedelta(hours=i),
            settings=small,
        )
    p = apply_event(
        p,
        FeedEvent.NOT_INTERESTED,
        tags=["bad"],
        author_id=None,
        language=None,
        now=NOW + timedelta(hours=30),
        settings=small,
    )
    assert len(p) <= 10
    assert "tag:bad" in p.entries  # −3 outweighs every old like
    assert "tag:t0" not in p.entries  # the oldest like decayed most


def test_edit_and_json_round_trip():
    p = set_interest(profile_from_interests(["a"], [], NOW, S), "tag:b", 1.5, NOW, S)
    p = set_interest(p, "tag:a", 0.0, NOW, S)
    again = profile_from_json(profile_to_json(p))
    assert again.weights(NOW, 20) == {"tag:b": 1.5}
