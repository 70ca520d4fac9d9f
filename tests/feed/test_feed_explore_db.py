"""Explore on a real database: cold start, negative feedback, paging, chronological mode,
events export/reset, and the maintenance job run by the worker."""

from __future__ import annotations

import gc
from datetime import timedelta

import pytest

from redfed.models import Account, FeedEvent, InterestWeight, Note, TrendingNote, User, Visibility
from redfed.services.feed import candidate_rows, events, maintenance
from redfed.services.feed.explore import explore_page
from redfed.services.feed.signals import feed_settings
from redfed.services.feed.types import FeedEvent as Kind
from redfed.services.feed.types import ReasonKind
from tests.support.feed import NOW, account, note
from tests.support.sql import recording


def ids(page):
    return [n.id for n, _ in page.cards]


_WRITES = {"INSERT", "UPDATE", "DELETE", "REPLACE"}


async def test_cold_start_follows_signup_interests(settings, db):
    me = await account("me", user=True, interests=["travel"], languages=["en"])
    other = await account("other")
    cars = [await note(await account(f"c{i}"), "cars", engagement=1) for i in range(3)]
    travel = await note(other, "travel", engagement=1)
    page = await explore_page(me, None, settings, page_size=4)
    assert ids(page)[0] == travel.id and set(ids(page)) == {travel.id, *(c.id for c in cars)}
    kinds = [r.kind for r in page.cards[0][1]]
    assert ReasonKind.INTEREST_TAG in kinds


async def test_not_interested_and_show_fewer_change_the_next_page(settings, db):
    me = await account("me", user=True, interests=["cats"])
    fs = await feed_settings(settings)
    cat_notes = [await note(await account(f"cat{i}"), "cats") for i in range(4)]
    dog = await note(await account("dog"), "dogs")
    first = await explore_page(me, None, settings, page_size=1)
    assert ids(first) == [cat_notes[-1].id] or ids(first)[0] in {c.id for c in cat_notes}
    shown = await Note.get(id=ids(first)[0])
    await events.record_event(me, Kind.NOT_INTERESTED, shown, fs)
    fresh = await explore_page(me, None, settings, page_size=1)
    assert ids(fresh) == [dog.id]  # the cats lost their pull; the dismissed note is gone
    assert await InterestWeight.filter(account_id=me.id, key="tag:cats", weight__lt=0).exists()


async def test_paging_never_repeats_and_reaches_every_eligible_note(settings, db):
    me = await account("me", user=True)
    made = {(await note(await account(f"a{i}"), "x", engagement=i % 5)).id for i in range(23)}
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = await explore_page(me, cursor, settings, page_size=5)
        if not page.cards:
            break
        seen += ids(page)
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) and set(seen) == made


async def test_paging_goes_on_when_every_author_was_on_the_last_page(settings, db):
    # Given: a small server, two authors with three notes each (found on the walkthrough:
    # page 2 left out both authors of page 1, came back empty and ended Explore)
    me = await account("me", user=True)
    authors = [await account("a"), await account("b")]
    made = {(await note(authors[i % 2], "x", hours_old=1 + i)).id for i in range(6)}
    seen: list[int] = []
    cursor = None
    # When: the person pages on
    for _ in range(5):
        page = await explore_page(me, cursor, settings, page_size=4)
        if not page.cards:
            break
        # Then: every page still holds one note per author at most
        assert len({n.account_id for n, _ in page.cards}) == len(page.cards)
        seen += ids(page)
        cursor = page.next_cursor
    # And: every note is reached, none twice
    assert len(seen) == len(set(seen)) and set(seen) == made


async def test_anonymous_paging_never_repeats(settings, db):
    made = {(await note(await account(f"a{i}"), "x", engagement=i)).id for i in range(13)}
    seen: list[int] = []
    cursor = None
    for _ in range(6):
        page = await explore_page(None, cursor, settings, page_size=4)
        if not page.cards:
            break
        seen += ids(page)
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) and set(seen) == made


async def test_an_explore_page_writes_nothing(settings, db):
    me = await account("me", user=True, interests=["x"])
    for i in range(6):
        await note(await account(f"a{i}"), "x", engagement=i)
    first = await explore_page(me, None, settings, page_size=3)  # builds the shared pools
    with recording() as seen:
        second = await explore_page(me, first.next_cursor, settings, page_size=3)
        await explore_page(me, None, settings, page_size=3)
    statements = [sql.strip() for sql, _ms in seen]
    assert len(second.cards) == 3 and not set(ids(first)) & set(ids(second))
    writes = [s for s in statements if s.split(None, 1)[0].upper() in _WRITES]
    assert statements and writes == []


async def test_a_malformed_or_oversized_cursor_starts_afresh(settings, db):
    me = await account("me", user=True)
    for i in range(4):
        await note(await account(f"a{i}"), "x")
    fresh = ids(await explore_page(me, None, settings, page_size=2))
    for bad in ("", "!!", "AAAA", "A" * 9000, "c12x"):
        assert ids(await explore_page(me, bad, settings, page_size=2)) == fresh


async def test_a_cursor_of_someone_else_starts_afresh(settings, db):
    me, you = await account("me", user=True), await account("you", user=True)
    for i in range(4):
        await note(await account(f"a{i}"), "x")
    mine = await explore_page(me, None, settings, page_size=2)
    yours = await explore_page(you, mine.next_cursor, settings, page_size=2)
    assert ids(yours) == ids(mine) and yours.next_cursor != mine.next_cursor


async def test_chronological_mode_gives_newest_first(settings, db):
    me = await account("me", user=True)
    await User.filter(account_id=me.id).update(feed_mode="chronological")
    old = await note(await account("a"), "x", engagement=50, hours_old=10)
    new = await note(await account("b"), "x", hours_old=1)
    page = await explore_page(me, None, settings)
    assert ids(page) == [new.id, old.id] and page.next_cursor == f"c{old.id}"


async def test_sensitive_and_unread_languages_are_filtered(settings, db):
    me = await account("me", user=True, languages=["en"])
    en = await note(await account("a"), "x")
    await note(await account("b"), "x", sensitive=True)
    await note(await account("c"), "x", language="fr")
    assert ids(await explore_page(me, None, settings)) == [en.id]
    await User.filter(account_id=me.id).update(show_sensitive=True, auto_translate=True)
    assert len(ids(await explore_page(me, None, settings))) == 3


async def test_anonymous_get_a_ranked_public_feed(settings, db):
    hot = await note(await account("a"), "x", engagement=40)
    cold = await note(await account("b"), "x", engagement=0, hours_old=100)
    page = await explore_page(None, None, settings)
    assert ids(page) == [hot.id, cold.id]


async def test_events_export_and_reset(settings, db):
    me = await account("me", user=True)
    fs = await feed_settings(settings)
    n = await note(await account("a"), "food")
    await events.record_event(me, Kind.LIKE, n, fs)
    assert await events.record_impressions(me, [n.id, n.id, 999]) == 1
    data = await events.export_events(me)
    assert [e["kind"] for e in data["events"]] == ["like", "impression"]
    assert data["interests"]["tag:food"] > 0
    assert (await Note.get(id=n.id)).engagement == 1.0
    assert await events.reset_events(me) == 2
    assert not await FeedEvent.filter(account_id=me.id).exists()
    assert not await InterestWeight.filter(account_id=me.id).exists()


async def test_likes_build_neighbours_and_explain_them(settings, db, worker):
    fs = await feed_settings(settings)
    a, b, c = [await note(await account(f"n{i}"), tag) for i, tag in enumerate("xyx")]
    people = [await account(f"p{i}", user=True) for i in range(3)]
    for p in people:
        await events.record_event(p, Kind.LIKE, a, fs)
        await events.record_event(p, Kind.LIKE, b, fs)
    me = await account("me", user=True)
    await events.record_event(me, Kind.LIKE, a, fs)
    await worker.run_until_idle()  # the pairs are made by the worker
    page = await explore_page(me, None, settings, page_size=1)
    assert ids(page) == [b.id] and c.id not in ids(page)
    assert any(r.kind is ReasonKind.COENGAGEMENT for r in page.cards[0][1]), page.cards[0][1]


async def test_maintenance_job_trends_decays_and_purges(settings, db, worker):
    fs = await feed_settings(settings)
    n = await note(await account("a"), "x", language="zh")
    for i in range(3):
        await events.record_event(await account(f"p{i}", user=True), Kind.LIKE, n, fs)
    await worker.run_until_idle()  # their (empty) co-engagement jobs
    old = await FeedEvent.create(account_id=n.account_id, kind="open")
    await FeedEvent.filter(id=old.id).update(created_at=NOW - timedelta(days=91))
    await maintenance.ensure_scheduled()
    await maintenance.ensure_scheduled()  # idempotent within the period
    assert await worker.run_until_idle() == 2  # the hourly run, and the day's decay it queued
    trend = await TrendingNote.get(note_id=n.id)
    assert trend.language == "zh" and trend.score == 4.0
    assert not await FeedEvent.filter(id=old.id).exists()
    assert 0 < (await Note.get(id=n.id)).engagement < 3.0


async def test_a_trending_note_says_so_and_its_trend_counts(settings, db):
    """The trending job's score reaches ranking: a trending note overtakes a slightly more
    engaged quiet one, and its card says "trending in 中文". The day's likes are written as
    bare events, so the two notes' stored engagement stays what is set here."""
    hot = await note(await account("hot"), "x", language="zh", engagement=4.0)
    quiet = await note(await account("quiet"), "x", language="zh", engagement=4.2)
    for i in range(4):
        liker = await account(f"p{i}", user=True)
        await FeedEvent.create(account_id=liker.id, kind="like", note_id=hot.id)
    await maintenance.recompute_trending(NOW)
    me = await account("me", user=True, languages=["zh"])
    page = await explore_page(me, None, settings, page_size=2)
    assert ids(page) == [hot.id, quiet.id]
    reasons = {n.id: r for n, r in page.cards}
    trending = [r for r in reasons[hot.id] if r.kind is ReasonKind.TRENDING]
    assert trending and trending[0].param("language") == "zh", reasons[hot.id]
    assert not any(r.kind is ReasonKind.TRENDING for r in reasons[quiet.id])


async def test_a_note_changed_after_its_row_was_kept_is_not_shown(settings, db):
    """Rows are kept a minute for ranking (candidate_rows); the page is checked live. The
    changes are raw updates, as another process would make them (no save signal here)."""
    me = await account("me", user=True)
    private = await note(await account("p"), "x", engagement=9)
    suspended = await note(await account("s"), "x", engagement=8)
    silenced = await note(await account("q"), "x", engagement=7)
    others = {(await note(await account(f"a{i}"), "x", engagement=i)).id for i in range(3)}
    first = await explore_page(me, None, settings, page_size=2)  # rows now kept
    assert ids(first) == [private.id, suspended.id]
    await Note.filter(id=private.id).update(visibility=Visibility.FOLLOWERS)
    await Account.filter(id=suspended.account_id).update(suspended_at=NOW)
    await Account.filter(id=silenced.account_id).update(silenced=True)
    await Note.filter(id=max(others)).delete()
    page = await explore_page(me, None, settings, page_size=5)
    assert set(ids(page)) == others - {max(others)}
    assert candidate_rows._rows[private.id][1] is None  # not ranked again until re-read


async def test_kept_rows_are_bounded(settings, db, monkeypatch):
    monkeypatch.setattr(candidate_rows, "MAX_ROWS", 4)
    me = await account("me", user=True)
    for i in range(9):
        await note(await account(f"a{i}"), "x", engagement=i)
    page = await explore_page(me, None, settings, page_size=3)
    assert len(page.cards) == 3 and len(candidate_rows._rows) <= 4


async def test_kept_rows_are_not_walked_by_the_garbage_collector(settings, db):
    """Kept rows are plain tuples of plain values: once collected, the collector stops
    tracking them, so full collections do not walk the (up to MAX_ROWS) kept rows."""
    me = await account("me", user=True)
    for i in range(3):
        await note(await account(f"a{i}"), "x", engagement=i)
    first = await explore_page(me, None, settings, page_size=2)
    for _ in range(3):  # a collection untracks a tuple once its inner tuples are untracked
        gc.collect()
    kept = [entry for entry in candidate_rows._rows.values() if entry[1] is not None]
    assert len(kept) == 3 and not any(gc.is_tracked(entry) for entry in kept)
    again = await explore_page(me, None, settings, page_size=2)  # ranked from the kept rows
    assert ids(again) == ids(first)


async def test_trending_is_replaced_whole_or_not_at_all(settings, db, monkeypatch):
    """The hourly job swaps the trending table: a failure (or a killed worker) between
    forgetting the old trends and writing the new ones must leave the old ones, not an empty
    table that takes the trending term off every page until the next hour."""
    n = await note(await account("a"), "x", language="zh")
    for i in range(3):
        await FeedEvent.create(account_id=(await account(f"p{i}")).id, kind="like", note_id=n.id)
    await maintenance.recompute_trending(NOW)

    async def killed(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(TrendingNote, "bulk_create", killed)
    with pytest.raises(RuntimeError):
        await maintenance.recompute_trending(NOW)
    assert await TrendingNote.filter(note_id=n.id).exists()
