"""Likes, collects, comments, follows, follow requests, blocks and mutes: rows, counters,
notifications and exactly one federate job per federating action (collects: none)."""

from __future__ import annotations

import pytest

from redfed.errors import Forbidden, NotFound
from redfed.models import (
    Account,
    Collect,
    Follow,
    FollowState,
    Like,
    Note,
    Notification,
    Visibility,
)
from redfed.runtime import Runtime
from redfed.services import follows, interactions, notifications, relationships, timelines
from tests.support.notes import account, federate_events


@pytest.fixture
def rt(settings, db) -> Runtime:
    return Runtime(settings=settings)


async def _note(note: Note) -> Note:
    return await Note.get(id=note.id)


async def test_like_unlike_counts_notifies_and_federates_once(rt, make_note) -> None:
    alice, bob = await account("alice"), await account("bob")
    note = await make_note(alice, title="cake")
    start = len(await federate_events())
    like = await interactions.like_note(rt, bob, note)
    assert await interactions.like_note(rt, bob, note) == like  # idempotent
    assert (await _note(note)).likes_count == 1
    assert like.uri == f"https://redfed.test/users/bob#likes/{like.id}"
    assert (
        await Notification.filter(recipient_id=alice.id, kind="like", actor_id=bob.id).count() == 1
    )
    assert await interactions.unlike_note(rt, bob, note) is True
    assert await interactions.unlike_note(rt, bob, note) is False
    assert (await _note(note)).likes_count == 0
    events = (await federate_events())[start:]
    assert events == [
        {"event": "note_liked", "like_id": like.id},
        {
            "event": "note_unliked",
            "like_uri": like.uri,
            "account_id": bob.id,
            "note_uri": note.uri,
            "note_author_id": alice.id,
        },
    ]


async def test_own_like_does_not_notify_and_invisible_note_cannot_be_liked(rt, make_note) -> None:
    alice, bob = await account("alice"), await account("bob")
    note = await make_note(alice, title="mine")
    await interactions.like_note(rt, alice, note)
    assert await Notification.all().count() == 0
    secret = await make_note(alice, text="shh", visibility=Visibility.FOLLOWERS)
    jobs_before = len(await federate_events())
    with pytest.raises(NotFound):
        await interactions.like_note(rt, bob, secret)
    with pytest.raises(NotFound):
        await interactions.collect_note(bob, secret)
    assert await Like.filter(note_id=secret.id).count() == 0 and await Collect.all().count() == 0
    assert len(await federate_events()) == jobs_before


async def test_collects_are_private_and_never_federate(rt, make_note) -> None:
    alice, bob = await account("alice"), await account("bob")
    note = await make_note(alice, title="recipe")
    before = len(await federate_events())
    await interactions.collect_note(bob, note)
    await interactions.collect_note(bob, note)
    assert (await _note(note)).collects_count == 1
    assert [n.id for n in await timelines.collected_notes(bob)] == [note.id]
    assert await interactions.uncollect_note(bob, note) is True
    assert (await _note(note)).collects_count == 0
    assert len(await federate_events()) == before
    assert await Notification.filter(kind="like").count() == 0


async def test_comments_and_replies_form_a_one_level_thread(rt, make_note) -> None:
    alice, bob, carol = await account("alice"), await account("bob"), await account("carol")
    note = await make_note(alice, title="trip")
    c1 = await interactions.comment_on_note(rt, bob, note, "lovely")
    r1 = await interactions.comment_on_note(rt, carol, c1, "agreed")
    r2 = await interactions.comment_on_note(rt, bob, r1, "thanks")
    c2 = await interactions.comment_on_note(rt, carol, note, "where?")
    assert r2.root_id == note.id and r2.in_reply_to_id == r1.id
    tree = await timelines.thread(None, note)
    assert [(n.note.id, [r.id for r in n.replies]) for n in tree] == [
        (c1.id, [r1.id, r2.id]),
        (c2.id, []),
    ]
    assert (await _note(note)).comments_count == 4
    kinds = await Notification.filter(recipient_id=alice.id).values_list("kind", flat=True)
    assert sorted(kinds) == ["comment", "comment"]
    assert (
        await Notification.filter(recipient_id=bob.id, kind="comment").count() == 1
    )  # carol's reply
    # Comments stay out of the grids.
    assert [n.id for n in await timelines.explore_newest(None)] == [note.id]


async def test_comment_on_followers_only_note_stays_followers_only(rt, make_note) -> None:
    alice, bob, eve = await account("alice"), await account("bob"), await account("eve")
    await follows.follow_account(rt, bob, alice)
    note = await make_note(alice, text="friends", visibility=Visibility.FOLLOWERS)
    comment = await interactions.comment_on_note(rt, bob, note, "hi")
    assert comment.visibility == Visibility.FOLLOWERS
    assert await timelines.thread(eve, note) == []


async def test_follow_locked_account_request_approve_reject(rt) -> None:
    alice, bob, carol = (
        await account("alice", locked=True),
        await account("bob"),
        await account("carol"),
    )
    f1 = await follows.follow_account(rt, bob, alice)
    f2 = await follows.follow_account(rt, carol, alice)
    assert f1.state == FollowState.PENDING
    assert (await Account.get(id=alice.id)).followers_count == 0
    assert [f.id for f in await follows.pending_requests(alice)] == [f2.id, f1.id]
    assert await Notification.filter(recipient_id=alice.id, kind="follow_request").count() == 2
    await follows.accept_follow(rt, alice, f1.id)
    await follows.reject_follow(rt, alice, f2.id)
    with pytest.raises(NotFound):  # nobody else decides alice's requests
        await follows.accept_follow(rt, carol, f1.id)
    assert (await Account.get(id=alice.id)).followers_count == 1
    assert (await Account.get(id=bob.id)).following_count == 1
    assert not await Follow.filter(id=f2.id).exists()
    events = [e["event"] for e in await federate_events()]
    assert events == ["follow_requested", "follow_requested", "follow_accepted", "follow_rejected"]


async def test_follow_unfollow_counters_and_remote_follow_pending(rt) -> None:
    alice, bob = await account("alice"), await account("bob")
    remote = await account("zed", domain="remote.example")
    follow = await follows.follow_account(rt, bob, alice)
    assert follow.state == FollowState.ACCEPTED
    assert await Notification.filter(recipient_id=alice.id, kind="follow").count() == 1
    assert (await follows.follow_account(rt, bob, remote)).state == FollowState.PENDING
    assert await follows.unfollow_account(rt, bob, alice) is True
    assert (await Account.get(id=alice.id)).followers_count == 0
    assert (await Account.get(id=bob.id)).following_count == 0
    events = await federate_events()
    assert [e["event"] for e in events] == ["follow_requested", "follow_requested", "follow_undone"]
    assert events[-1]["follow_uri"] == follow.uri


async def test_block_removes_follows_both_ways_and_hides_everything(rt, make_note) -> None:
    alice, bob = await account("alice"), await account("bob")
    await follows.follow_account(rt, alice, bob)
    await follows.follow_account(rt, bob, alice)
    note = await make_note(bob, title="bob's")
    start = len(await federate_events())
    block = await relationships.block_account(rt, alice, bob)
    assert await Follow.all().count() == 0
    for who in (alice, bob):
        fresh = await Account.get(id=who.id)
        assert (fresh.followers_count, fresh.following_count) == (0, 0)
    assert (await federate_events())[start:] == [{"event": "account_blocked", "block_id": block.id}]
    assert await timelines.explore_newest(alice) == []
    with pytest.raises(Forbidden):
        await follows.follow_account(rt, bob, alice)
    # bob cannot like alice's notes, and is not notified of anything from alice's side
    alice_note = await make_note(alice, title="alice's")
    with pytest.raises(NotFound):
        await interactions.like_note(rt, bob, alice_note)
    assert await relationships.unblock_account(rt, alice, bob) is True
    assert (await federate_events())[-1]["event"] == "account_unblocked"
    assert [n.id for n in await timelines.explore_newest(alice)][-1] == note.id


async def test_mute_hides_from_listings_and_notifications(rt, make_note) -> None:
    alice, bob = await account("alice"), await account("bob")
    note = await make_note(bob, title="loud")
    await relationships.mute_account(alice, bob)
    assert await timelines.explore_newest(alice) == []
    mine = await make_note(alice, title="mine")
    await interactions.like_note(rt, bob, mine)
    assert await notifications.list_notifications(alice) == []
    assert await Notification.filter(recipient_id=alice.id).count() == 0
    await relationships.unmute_account(alice, bob)
    assert note.id in [n.id for n in await timelines.explore_newest(alice)]


async def test_a_like_teaches_the_interest_feed(rt, make_note, worker) -> None:
    # Given two notes a person likes, one tagged #hotpot
    from redfed.models import InterestWeight, NoteNeighbour

    author, fan = await account("chef"), await account("fan")
    first = await make_note(author, title="Hotpot night", text="Spicy! #hotpot")
    second = await make_note(author, title="Dumplings", text="Steamed #dumplings")
    # When she likes both through the service the pages use
    await interactions.like_note(rt, fan, first)
    await interactions.like_note(rt, fan, second)
    # Then her interests grew at once, and the worker made the two notes neighbours
    keys = set(await InterestWeight.filter(account_id=fan.id).values_list("key", flat=True))
    assert {"tag:hotpot", "tag:dumplings"} <= keys
    await worker.run_until_idle()
    assert await NoteNeighbour.filter(note_id=second.id, neighbour_id=first.id).exists()
