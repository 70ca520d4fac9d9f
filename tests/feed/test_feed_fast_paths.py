"""Explore's fast paths agree with the plain ones: the by-id public-listing check equals
`visible_notes_query(public_listing=True)`, and the cached candidate pools follow new notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redfed.ids import min_id_for
from redfed.models import Block, DomainBlock, DomainSeverity, Mute, Visibility
from redfed.services.feed import candidates
from redfed.services.visibility import public_listing_rows, visible_notes_query
from tests.support.feed import account, note


async def _world() -> tuple:
    me = await account("me", user=True)
    ok = await account("ok")
    remote = await account("far", domain="ok.example")
    silenced_domain = await account("quiet", domain="silenced.example")
    suspended_domain = await account("gone", domain="suspended.example")
    suspended = await account("susp", suspended_at=datetime.now(UTC))
    silenced = await account("hush", silenced=True)
    muted, blocked, blocker = await account("muted"), await account("blk"), await account("blkr")
    await DomainBlock.create(domain="silenced.example", severity=DomainSeverity.SILENCE)
    await DomainBlock.create(domain="suspended.example", severity=DomainSeverity.SUSPEND)
    await Mute.create(account_id=me.id, target_id=muted.id)
    await Block.create(account_id=me.id, target_id=blocked.id)
    await Block.create(account_id=blocker.id, target_id=me.id)
    authors = [me, ok, remote, silenced_domain, suspended_domain, suspended, silenced]
    authors += [muted, blocked, blocker]
    ids = [(await note(a, visibility=v)).id for a in authors for v in Visibility]
    return me, ids


async def test_by_id_listing_rules_equal_the_listing_query(db):
    me, ids = await _world()
    for viewer in (None, me):
        expected = set(
            await (await visible_notes_query(viewer, public_listing=True)).values_list(
                "id", flat=True
            )
        )
        rows = await public_listing_rows(viewer, ids, "n.id")
        assert {int(r[0]) for r in rows} == expected
        assert expected  # the world keeps some notes visible
    assert await public_listing_rows(me, [], "n.id") == []


async def test_pools_pick_up_new_and_back_dated_notes_and_engagement(db):
    candidates.reset_pools()
    small = await account("small")
    first = await note(small, engagement=1.0)
    since = 0
    assert await candidates.by_popularity(since, 10) == [first.id]
    newer = await note(small, engagement=5.0, hours_old=0.5)
    older = await note(small, engagement=3.0, hours_old=30)  # id older than the pools' newest
    hidden = await note(small, engagement=9.0, visibility=Visibility.FOLLOWERS)
    popular = await candidates.by_popularity(since, 10)
    assert popular == [newer.id, older.id, first.id]
    assert hidden.id not in popular
    assert await candidates.by_new_creators(since, datetime.now(UTC), 10) == [
        newer.id,
        first.id,
        older.id,
    ]
    first.engagement = 7.0
    await first.save()
    assert (await candidates.by_popularity(since, 10))[0] == first.id
    assert await candidates.by_popularity(older.id + 1, 10) == [first.id, newer.id]


async def test_interest_retrieval_takes_the_newest_across_tags_within_the_window(db):
    author = await account("a")
    by_age = {}
    for hours, tags in [(1, ("cats",)), (2, ("dogs",)), (3, ("cats", "dogs")), (4, ("cats",))]:
        by_age[hours] = (await note(author, *tags, hours_old=hours)).id
    old = await note(author, "cats", hours_old=24 * 40)  # before the window
    await note(author, "birds", hours_old=0.5)  # a tag the person does not follow
    since = min_id_for(datetime.now(UTC) - timedelta(days=candidates.FRESH_DAYS))
    weights = {"cats": 2.0, "dogs": 1.0, "fish": 3.0, "birds": -1.0}
    assert await candidates.by_interest(weights, since, 3) == [by_age[1], by_age[2], by_age[3]]
    everything = await candidates.by_interest(weights, since, 10)
    assert everything == [by_age[h] for h in (1, 2, 3, 4)] and old.id not in everything
