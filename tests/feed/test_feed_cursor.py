"""Explore's paging cursor: what a session has shown travels in the cursor, compactly, and a
cursor from anyone else or anything malformed starts afresh."""

from __future__ import annotations

import base64
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from redfed.services.feed import cursor as paging

ID = st.integers(min_value=1, max_value=(1 << 63) - 1)


def _pages(rng: random.Random, pages: int, size: int = 20) -> list[list[int]]:
    return [[rng.getrandbits(63) for _ in range(size)] for _ in range(pages)]


@settings(max_examples=60, deadline=None)
@given(pages=st.lists(st.lists(ID, min_size=1, max_size=25), min_size=1, max_size=8), viewer=ID)
def test_every_shown_card_survives_the_round_trip(pages, viewer):
    state = paging.fresh_state(viewer)
    for page in pages:
        state = paging.decode(paging.encode(state), viewer)
        state.remember(page, [i % 97 for i in page])
    back = paging.decode(paging.encode(state), viewer)
    assert all(back.was_shown(i) for page in pages for i in page)  # no false negatives
    assert all(back.was_last_author(i % 97) for i in pages[-1])
    assert back.recent == state.recent and back.older == state.older


def test_the_last_thousand_cards_are_always_remembered_and_the_cursor_stays_small():
    rng = random.Random(4)
    state = paging.fresh_state(7)
    pages = _pages(rng, 150)
    for n, page in enumerate(pages, 1):
        state = paging.decode(paging.encode(state), 7)
        state.remember(page, page[:3])
        recent = [i for p in pages[max(0, n - paging.MAX_SHOWN // 2 // 20) : n] for i in p]
        assert all(state.was_shown(i) for i in recent)
    text = paging.encode(state)
    assert len(text) < 5000 < paging.MAX_CURSOR_CHARS  # 2,000 cards remembered
    assert len(paging.encode(_after_one_page(rng))) < 300  # a second page's link stays short


def _after_one_page(rng: random.Random) -> paging.PagingState:
    state = paging.fresh_state(1)
    state.remember(*_pages(rng, 2))
    return state


def test_unseen_cards_are_rarely_taken_for_shown_ones():
    rng = random.Random(9)
    state = paging.fresh_state(3)
    for page in _pages(rng, 100):
        state.remember(page, [])
    false = sum(state.was_shown(rng.getrandbits(63)) for _ in range(20_000))
    assert false / 20_000 < 0.002  # 2,000 of 4M hashes: ~0.05 %


def test_a_cursor_belongs_to_its_viewer():
    state = paging.fresh_state(11)
    state.remember([1, 2, 3], [9])
    text = paging.encode(state)
    assert paging.decode(text, 11).was_shown(2)
    for other in (12, None):
        assert not paging.decode(text, other).was_shown(2)


def test_malformed_cursors_start_afresh():
    state = paging.fresh_state(5)
    state.remember(list(range(1, 60)), [1])
    good = paging.encode(state)
    raw = base64.urlsafe_b64decode(good + "=" * (-len(good) % 4))
    bad = [
        None,
        "",
        "%%%",
        good[:-3],  # truncated
        good + "AAAA",  # trailing bytes
        base64.urlsafe_b64encode(b"\x02" + raw[1:]).decode(),  # unknown version
        base64.urlsafe_b64encode(raw[:-6] + b"\xff" * 6).decode(),  # set runs past its end
        "A" * (paging.MAX_CURSOR_CHARS + 4),
    ]
    for text in bad:
        fresh = paging.decode(text, 5)
        assert not fresh.recent and not fresh.older and not fresh.last_authors, text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_decode_to_a_bounded_state_or_a_fresh_one(raw):
    text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    state = paging.decode(text, 1)
    assert len(state.recent) + len(state.older) <= 2 * paging.MAX_SHOWN
