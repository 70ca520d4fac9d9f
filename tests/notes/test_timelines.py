"""Listings: paging by max_id never repeats or skips; Following, tags, search, remote notes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from redfed.ids import new_id
from redfed.models import Note, Visibility
from redfed.runtime import Runtime
from redfed.services import follows, timelines
from tests.support.notes import account


async def test_paging_with_max_id_never_repeats(db, make_note, monkeypatch) -> None:
    monkeypatch.setattr(timelines, "PAGE_SIZE", 4)
    alice = await account("alice")
    made = [(await make_note(alice, title=f"n{i}")).id for i in range(10)]
    seen: list[int] = []
    max_id = None
    while True:
        page = await timelines.explore_newest(None, max_id=max_id)
        if not page:
            break
        assert len(page) <= 4
        seen += [n.id for n in page]
        max_id = page[-1].id
    assert seen == sorted(made, reverse=True)


async def test_remote_notes_are_listed_like_local_ones(db, make_note) -> None:
    alice = await account("alice")
    remote = await account("pierre", domain="pixel.example")
    local = await make_note(alice, title="local")
    far = await Note.create(
        id=new_id(),
        uri="https://pixel.example/p/1",
        account=remote,
        local=False,
        title="far",
        published_at=datetime.now(UTC),
    )
    assert [n.id for n in await timelines.explore_newest(None)] == [far.id, local.id]


async def test_following_holds_followed_and_own_notes(settings, db, make_note) -> None:
    rt = Runtime(settings=settings)
    alice, bob, carol = await account("alice"), await account("bob"), await account("carol")
    await follows.follow_account(rt, alice, bob)
    own = await make_note(alice, title="own")
    followed = await make_note(bob, text="for followers", visibility=Visibility.FOLLOWERS)
    await make_note(carol, title="stranger")
    assert [n.id for n in await timelines.following(alice)] == [followed.id, own.id]


async def test_tags_and_search(db, make_note) -> None:
    alice = await account("alice", display_name="Alice Wonder")
    hidden = await account("hermit", discoverable=False)
    cats = await make_note(alice, title="Sleepy cats", text="#Cats #猫")
    await make_note(alice, text="#cats unlisted", visibility=Visibility.UNLISTED)
    other = await make_note(alice, title="dogs", text="#dogs")
    assert [n.id for n in await timelines.tag_notes(None, "CATS")] == [cats.id]
    assert [n.id for n in await timelines.tag_notes(None, "猫")] == [cats.id]
    assert [n.id for n in await timelines.search_notes(None, "#cats")] == [cats.id]
    assert [n.id for n in await timelines.search_notes(None, "sleepy")] == [cats.id]
    assert [n.id for n in await timelines.search_notes(None, "dogs")] == [other.id]
    assert [a.id for a in await timelines.search_accounts(None, "wonder")] == [alice.id]
    assert await timelines.search_accounts(None, "hermit") == []
    assert hidden.id


@pytest.mark.parametrize("query", ["", "   ", "#"])
async def test_empty_search_is_empty(db, query) -> None:
    assert await timelines.search_notes(None, query) == []
    assert await timelines.search_accounts(None, query.lstrip("#")) == []
