"""PRIV-03, PRIV-04, PRIV-05, PRIV-06: who gains access through what remote servers send.

Each test drives real signed activities through the inbox and the worker, then asks the one
place visibility lives (services/visibility.can_view) and the listings built on it.
"""

from __future__ import annotations

from typing import Any

from redfed.models import (
    Account,
    Boost,
    Follow,
    FollowState,
    Mention,
    Note,
    Notification,
    Visibility,
)
from redfed.services import timelines
from redfed.services.moderation import block_domain
from redfed.services.relationships import block_account
from redfed.services.visibility import can_view
from tests.federation_in.conftest import make_local, snapshot, warm
from tests.support.fediverse import PUBLIC, FakeInstance


async def _deliver(client: Any, worker: Any, instance: FakeInstance, actor: Any, doc: Any) -> None:
    assert (await instance.post(client, actor, "/inbox", doc)).status_code == 202
    await worker.run_until_idle()


def _mention(uri: str) -> dict[str, str]:
    return {"type": "Mention", "href": uri}


async def test_priv03_update_adding_a_mention_grants_no_access(
    client, worker, runtime, settings, remote: FakeInstance, alice
) -> None:
    # Given a direct note from bob to alice
    carol = await make_local(settings, "carol")
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    note = remote.note(bob, "<p>for alice</p>", to=[alice.uri], cc=[], tag=[_mention(alice.uri)])
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    stored = await Note.get(uri=note["id"])
    assert stored.visibility == Visibility.DIRECT
    assert await can_view(alice, stored) and not await can_view(carol, stored)
    # When bob edits it, adding a mention of carol that is not in to/cc
    edited = dict(
        note,
        content="<p>for alice, and @carol</p>",
        tag=[_mention(alice.uri), _mention(carol.uri)],
        updated="2099-01-01T00:00:00Z",
    )
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Update", edited))
    # Then the edit is applied, but carol gained nothing: no mention, no notification, no access
    stored = await Note.get(uri=note["id"])
    assert "@carol" in stored.content_html
    assert stored.visibility == Visibility.DIRECT
    assert not await Mention.exists(note=stored, account=carol)
    assert not await Notification.exists(recipient=carol)
    assert not await can_view(carol, stored)
    assert not await can_view(None, stored)
    assert await can_view(alice, stored)


async def test_priv04_followers_only_note_of_a_pending_follow_is_hidden(
    client, worker, runtime, settings, remote: FakeInstance, alice
) -> None:
    # Given alice's follow of locked bob, still pending
    carol = await make_local(settings, "carol")
    bob = remote.add_actor("bob", locked=True)
    await warm(runtime, bob)
    bob_account = await Account.get(uri=bob.uri)
    follow = await Follow.create(follower=alice, followee=bob_account, uri=f"{alice.uri}#f/1")
    assert follow.state == FollowState.PENDING
    # When bob's followers-only note arrives (addressed to his followers collection only)
    note = remote.note(bob, "<p>followers only</p>", public=False)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    # Then it is kept (alice may be accepted later) but nobody may see it yet: not alice
    # (pending), not another local user, not the public, in no listing; no notification
    stored = await Note.get(uri=note["id"])
    assert stored.visibility == Visibility.FOLLOWERS
    for viewer in (alice, carol, None):
        assert not await can_view(viewer, stored)
    assert stored.id not in {n.id for n in await timelines.following(alice)}
    assert stored.id not in {n.id for n in await timelines.profile_notes(alice, bob_account)}
    assert stored.id not in {n.id for n in await timelines.profile_notes(None, bob_account)}
    assert not await Notification.exists(recipient=alice)
    # And once bob accepts, alice (only) sees it: the rule is the follow, not the note
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Accept", follow.uri))
    assert (await Follow.get(id=follow.id)).state == FollowState.ACCEPTED
    assert await can_view(alice, stored) and not await can_view(carol, stored)
    assert stored.id in {n.id for n in await timelines.following(alice)}


async def test_priv06_create_touching_a_blocked_domain_is_dropped(
    client, worker, runtime, fediverse, alice
) -> None:
    good, evil = await fediverse(), await fediverse()
    bob, mallory = good.add_actor("bob"), evil.add_actor("mallory")
    await warm(runtime, bob)
    evil_note = evil.note(mallory, "<p>blocked origin</p>")
    await block_domain(evil.domain)
    # cc at the end of a long list: every address counts, not only the first few
    far_cc = [good.url(f"/users/u{i}") for i in range(60)] + [mallory.uri]
    cases = {
        "cc": good.note(bob, cc=[mallory.uri]),
        "to": good.note(bob, to=[PUBLIC, mallory.uri]),
        "far cc": good.note(bob, cc=far_cc),
        "inReplyTo": good.note(bob, inReplyTo=evil_note["id"]),
    }
    before = await snapshot()
    for name, note in cases.items():
        await _deliver(client, worker, good, bob, good.activity(bob, "Create", note))
        assert not await Note.exists(uri=note["id"]), name
    # The activity's own addressing counts too
    plain = good.note(bob)
    await _deliver(client, worker, good, bob, good.activity(bob, "Create", plain, cc=[mallory.uri]))
    assert not await Note.exists(uri=plain["id"])
    # An object on the blocked domain, by id or embedded, is neither fetched nor stored
    await _deliver(client, worker, good, bob, good.activity(bob, "Create", evil_note["id"]))
    await _deliver(client, worker, good, bob, good.activity(bob, "Create", evil_note))
    await _deliver(
        client, worker, good, bob, good.activity(bob, "Announce", evil_note["id"], to=[PUBLIC])
    )
    assert await snapshot() == before
    assert evil.requests == []  # nothing was asked of the blocked server


async def test_priv06_fetched_note_touching_a_blocked_domain_is_dropped(
    client, worker, runtime, fediverse, alice
) -> None:
    # Given carol's public note on an allowed server, which replies to a blocked server's note
    good, other, evil = await fediverse(), await fediverse(), await fediverse()
    bob, carol, mallory = good.add_actor("bob"), other.add_actor("carol"), evil.add_actor("m")
    await warm(runtime, bob)
    evil_note = evil.note(mallory)
    reply = other.note(carol, inReplyTo=evil_note["id"])
    addressed = other.note(carol, cc=[carol.followers, mallory.uri])
    await block_domain(evil.domain)
    before = await snapshot()
    # When bob boosts them (so they are fetched from their origin, not taken from bob)
    for note in (reply, addressed):
        await _deliver(
            client, worker, good, bob, good.activity(bob, "Announce", note["id"], to=[PUBLIC])
        )
    # Then neither is stored nor boosted, and the blocked server heard nothing
    assert not await Note.exists(uri=reply["id"]) and not await Note.exists(uri=addressed["id"])
    assert not await Boost.exists()
    assert await snapshot() == before
    assert evil.requests == []
    # Nor is a boost of a fine note that is itself addressed to the blocked server
    fine = other.note(carol)
    boost = good.activity(bob, "Announce", fine["id"], to=[PUBLIC], cc=[mallory.uri])
    await _deliver(client, worker, good, bob, boost)
    assert not await Boost.exists()
    # While the same note, boosted plainly, is boosted as usual
    await _deliver(
        client, worker, good, bob, good.activity(bob, "Announce", fine["id"], to=[PUBLIC])
    )
    assert await Boost.filter(note__uri=fine["id"]).count() == 1


async def test_priv05_boost_of_a_blocked_or_suspended_account_stays_hidden(
    client, worker, runtime, fediverse, alice
) -> None:
    # Given alice follows bob, blocks dave, and evil's server is suspended
    home, elsewhere, evil = await fediverse(), await fediverse(), await fediverse()
    bob, dave, mallory = home.add_actor("bob"), elsewhere.add_actor("dave"), evil.add_actor("m")
    await warm(runtime, bob, dave)
    bob_account, dave_account = await Account.get(uri=bob.uri), await Account.get(uri=dave.uri)
    await Follow.create(follower=alice, followee=bob_account, state=FollowState.ACCEPTED)
    await block_account(runtime, alice, dave_account)
    await block_domain(evil.domain)
    daves = elsewhere.note(dave, "<p>dave #cats</p>", tag=[{"type": "Hashtag", "name": "#cats"}])
    evils = evil.note(mallory, "<p>evil #cats</p>")
    # When bob boosts both
    for note in (daves, evils):
        await _deliver(
            client, worker, home, bob, home.activity(bob, "Announce", note["id"], to=[PUBLIC])
        )
    # Then the suspended server's note is not even stored, nor fetched
    assert not await Note.exists(uri=evils["id"]) and evil.requests == []
    # And dave's, boosted into alice's circle, is in none of her listings
    stored = await Note.get(uri=daves["id"])
    assert not await can_view(alice, stored)
    listings = [
        await timelines.following(alice),
        await timelines.explore_newest(alice),
        await timelines.profile_notes(alice, bob_account),
        await timelines.profile_notes(alice, dave_account),
        await timelines.tag_notes(alice, "cats"),
        await timelines.search_notes(alice, "#cats"),
    ]
    assert all(stored.id not in {n.id for n in listing} for listing in listings)
    # While someone who blocks nobody may see the public note (the block is alice's alone)
    assert await can_view(None, stored)
