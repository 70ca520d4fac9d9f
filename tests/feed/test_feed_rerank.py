"""Re-rank: MMR diversity, one note per author, new-creator share, and a property test."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from redfed.services.feed.rerank import new_creator_quota, rerank
from redfed.services.feed.types import FeedSettings

from .helpers import cand, scored

S = FeedSettings(new_creator_share=0.0)


def ids(page):
    return [s.candidate.note_id for s in page]


def test_at_most_one_note_per_author_and_shown_authors_left_out():
    items = [scored(cand(i, author_id=i % 3), 10 - i) for i in range(9)]
    page = rerank(items, S, 5, already_shown_authors=[2])
    assert ids(page) == [0, 1]


def test_mmr_prefers_a_different_topic_over_a_near_duplicate():
    items = [
        scored(cand(1, tags=("a", "b")), 1.0),
        scored(cand(2, tags=("a", "b")), 0.95),
        scored(cand(3, tags=("c",)), 0.9),
        scored(cand(4, tags=("d",)), 0.0),
    ]
    assert ids(rerank(items, replace(S, mmr_lambda=1.0), 2)) == [1, 2]
    assert ids(rerank(items, replace(S, mmr_lambda=0.75), 2)) == [1, 3]


def test_new_creator_share_reserves_slots_even_for_low_scores():
    items = [scored(cand(i), 100.0 - i) for i in range(20)]
    items += [scored(cand(100 + i, small=True), -50.0 - i) for i in range(5)]
    page = rerank(items, replace(S, new_creator_share=0.25, mmr_pool=10), 10)
    assert new_creator_quota(0.25, 10) == 3
    assert sum(s.candidate.author_is_small_or_new for s in page) == 3
    assert ids(page)[:7] == list(range(7))


def test_share_is_met_by_small_creators_that_rank_high_anyway():
    items = [scored(cand(i, small=i < 5), 100.0 - i) for i in range(20)]
    page = rerank(items, replace(S, new_creator_share=0.25), 10)
    assert ids(page) == list(range(10))


def test_duplicate_note_ids_collapse_to_one():
    items = [scored(cand(1), 1.0), scored(cand(1), 2.0), scored(cand(2), 0.5)]
    assert ids(rerank(items, S, 10)) == [1, 2]


candidate_lists = st.lists(
    st.builds(
        lambda n, a, tags, small, score: scored(cand(n, a, tuple(tags), small=small), score),
        st.integers(0, 30),
        st.integers(0, 8),
        st.lists(st.sampled_from("abcdef"), max_size=3),
        st.booleans(),
        st.floats(-5, 5, allow_nan=False),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    candidate_lists,
    st.integers(0, 12),
    st.floats(0, 1),
    st.floats(0, 1),
    st.sets(st.integers(0, 8), max_size=3),
)
def test_rerank_never_repeats_never_two_by_one_author_never_invents(
    items, page_size, share, lam, shown
):
    s = FeedSettings(new_creator_share=share, mmr_lambda=lam, mmr_pool=15)
    page = rerank(items, s, page_size, already_shown_authors=shown)
    notes = [p.candidate.note_id for p in page]
    authors = [p.candidate.author_id for p in page]
    assert len(notes) == len(set(notes))
    assert len(authors) == len(set(authors))
    assert len(page) <= page_size
    assert all(any(p is x for x in items) for p in page)
    assert not set(authors) & shown


def test_default_settings_give_40_percent_of_the_page_to_small_creators():
    items = [scored(cand(i), 100.0 - i) for i in range(20)]
    items += [scored(cand(100 + i, small=True), -50.0 - i) for i in range(8)]
    page = rerank(items, FeedSettings(), 10)
    assert sum(s.candidate.author_is_small_or_new for s in page) == 4
