"""Co-engagement neighbours: pair increments, damping of hyperactive users, top-K by lift."""

from __future__ import annotations

import math

import pytest

from redfed.services.feed.coengagement import (
    LIFT_PRIOR,
    lift,
    like_increments,
    merge_neighbours,
    neighbour_scores,
    top_neighbours,
)


def test_like_pairs_both_ways_with_recent_positives_only_once():
    rows = like_increments(10, [3, 3, 10, 4], user_positive_count=2)
    inc = 1 / math.log(4)
    assert sorted(rows) == sorted([(10, 3, inc), (3, 10, inc), (10, 4, inc), (4, 10, inc)])


def test_hyperactive_users_count_less_and_pairs_are_bounded():
    calm = like_increments(1, [2], user_positive_count=3)[0][2]
    busy = like_increments(1, [2], user_positive_count=3000)[0][2]
    assert busy < calm
    assert len(like_increments(0, list(range(1, 100)), 5, max_pairs=30)) == 60


def test_top_k_keeps_strongest_and_merge_adds():
    assert top_neighbours({1: 0.1, 2: 0.5, 3: 0.3}, k=2) == {2: 0.5, 3: 0.3}
    merged = merge_neighbours({1: 0.1, 2: 0.5}, [(1, 1.0), (4, 0.2)], k=2)
    assert merged == pytest.approx({1: 1.1, 2: 0.5})


def test_neighbour_scores_sum_scaled_rows_and_subtract_not_interested():
    # Each seed's row is divided by its strongest weight: 1 -> {5: 1, 6: .5}, 2 -> {5: 1}.
    table = {1: {5: 1.0, 6: 0.5}, 2: {5: 0.5}, 9: {6: 1.0}}
    out = neighbour_scores([1, 2], table, negative_ids=[9], negative_weight=3.0)
    assert out[5] == (2.0, 1)
    assert out[6][0] == pytest.approx(0.5 - 3.0)


def test_a_blockbuster_seed_does_not_drown_a_niche_seed():
    # Seed 1 has huge raw weights (everyone liked it); seed 2 is niche. Scaled per seed, the
    # niche seed's best neighbour ranks with the blockbuster's best one, not 100x below.
    table = {1: {10: 100.0, 11: 90.0}, 2: {20: 1.0}}
    out = neighbour_scores([1, 2], table)
    assert out[20][0] == pytest.approx(out[10][0])
    assert out[20][0] > out[11][0]
    assert out[20][1] == 2


def test_default_not_interested_penalty_weighs_like_one_like():
    # The benchmark measured a 3x penalty costing NDCG (bench/README.md); the default is 1.
    table = {1: {5: 1.0}, 9: {5: 1.0}}
    assert neighbour_scores([1], table, negative_ids=[9])[5][0] == pytest.approx(0.0)


def test_lift_keeps_the_note_that_comes_with_this_one_over_the_one_everyone_likes():
    # The hit shares more likes with this note only because it shares likes with everything.
    row = {1: 3.0, 2: 2.0}
    engagement = {1: 400.0, 2: 4.0}
    assert top_neighbours(row, k=1) == {1: 3.0}
    assert top_neighbours(row, k=1, engagement=engagement) == {2: 2.0}  # weights stay co-counts
    assert merge_neighbours({1: 3.0}, [(2, 2.0)], k=1, engagement=engagement) == {2: 2.0}


def test_the_prior_keeps_a_note_liked_once_from_winning_on_one_shared_like():
    # Full 1/n lift: 1/1 beats 4/30. With the prior the shared likes still count.
    assert lift(4.0, 30.0) > lift(1.0, 1.0)
    assert lift(4.0, 30.0) == pytest.approx(4.0 / math.sqrt(30.0 + LIFT_PRIOR))
    assert top_neighbours({1: 4.0, 2: 1.0}, k=1, engagement={1: 30.0, 2: 1.0}) == {1: 4.0}


def test_neighbour_scores_weigh_rows_by_lift_when_engagement_is_given():
    table = {1: {5: 1.0, 6: 1.0}}
    plain = neighbour_scores([1], table)
    assert plain[5][0] == plain[6][0] == 1.0
    out = neighbour_scores([1], table, engagement={5: 100.0, 6: 0.0})
    assert out[6] == (1.0, 1)
    assert out[5][0] == pytest.approx(math.sqrt(LIFT_PRIOR / (100.0 + LIFT_PRIOR)))
