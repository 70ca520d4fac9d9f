"""Scenarios of applied activities: follows, likes, replies, deletes, media, lookup, blocks."""

from __future__ import annotations

import io

from PIL import Image

from redfed.models import (
    Account,
    Block,
    Follow,
    FollowState,
    Job,
    Like,
    MediaAttachment,
    Note,
    Notification,
)
from redfed.services.lookup import lookup
from redfed.services.moderation import block_domain, list_domain_blocks, unblock_domain
from tests.federation_in.conftest import make_local
from tests.support.fediverse import FakeInstance


async def _deliver(client, worker, instance, actor, activity) -> None:
    assert (await instance.post(client, actor, "/inbox", activity)).status_code == 202
    await worker.run_until_idle()


async def test_follow_of_unlocked_account_is_accepted_and_federated(
    client, worker, runtime, settings, remote: FakeInstance, alice
) -> None:
    # Given a remote actor
    bob = remote.add_actor("bob")
    # When bob follows alice
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Follow", alice.uri))
    # Then the follow is accepted, counted, notified and an Accept went out
    follow = await Follow.get(followee=alice)
    assert follow.state == FollowState.ACCEPTED
    assert (await Account.get(id=alice.id)).followers_count == 1
    assert await Notification.filter(recipient=alice, kind="follow").count() == 1
    assert any(
        j.payload.get("event") == "follow_accepted" for j in await Job.filter(kind="federate")
    )


async def test_follow_of_locked_account_waits(
    client, worker, settings, remote: FakeInstance, alice
) -> None:
    carol = await make_local(settings, "carol", locked=True)
    bob = remote.add_actor("bob")
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Follow", carol.uri))
    assert (await Follow.get(followee=carol)).state == FollowState.PENDING
    assert await Notification.filter(recipient=carol, kind="follow_request").count() == 1


async def test_reply_like_undo_delete_of_a_thread(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    parent = remote.note(bob, "<p>parent</p>")
    reply = remote.note(bob, "<p>reply</p>", inReplyTo=parent["id"])
    # The reply arrives first: its parent is fetched from the origin (IDEM-06)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", reply))
    stored_parent = await Note.get(uri=parent["id"])
    stored_reply = await Note.get(uri=reply["id"])
    assert stored_reply.in_reply_to_id == stored_parent.id and stored_parent.comments_count == 1
    like = remote.activity(bob, "Like", parent["id"])
    await _deliver(client, worker, remote, bob, like)
    await _deliver(client, worker, remote, bob, like)
    assert (await Note.get(id=stored_parent.id)).likes_count == 1
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Undo", like))
    assert not await Like.exists() and (await Note.get(id=stored_parent.id)).likes_count == 0
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Delete", reply["id"]))
    assert not await Note.exists(uri=reply["id"])
    assert (await Note.get(id=stored_parent.id)).comments_count == 0


async def test_misskey_emoji_react_counts_as_like_and_notifies(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    note = await Note.create(
        uri=f"{alice.uri}/notes/1", account=alice, published_at="2026-01-01T00:00:00Z"
    )
    react = remote.activity(bob, "EmojiReact", note.uri, content="👍")
    await _deliver(client, worker, remote, bob, react)
    assert (await Note.get(id=note.id)).likes_count == 1
    assert await Notification.filter(recipient=alice, kind="like").count() == 1


async def test_block_ends_follows_and_move_is_recorded(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Follow", alice.uri))
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Block", alice.uri))
    assert await Block.exists(target=alice) and not await Follow.exists()
    assert (await Account.get(id=alice.id)).followers_count == 0
    await _deliver(
        client,
        worker,
        remote,
        bob,
        remote.activity(bob, "Move", bob.uri, target=remote.url("/users/bob2")),
    )
    assert (await Account.get(uri=bob.uri)).moved_to_uri == remote.url("/users/bob2")


async def test_delete_of_actor_removes_its_content(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    note = remote.note(bob)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Delete", bob.uri))
    assert not await Note.exists(uri=note["id"])
    assert (await Account.get(uri=bob.uri)).gone_at is not None


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


async def test_remote_photo_is_cached_unless_domain_rejects_media(
    client, worker, runtime, fediverse, alice
) -> None:
    good, bad = await fediverse(), await fediverse()
    for instance in (good, bad):
        instance.add_actor("bob")
        instance.files["/m/1.jpg"] = (_jpeg(), "image/jpeg")
    await block_domain(bad.domain, severity="noop", reject_media=True)
    for instance in (good, bad):
        bob = instance.actors["bob"]
        note = instance.note(
            bob,
            attachment=[
                {"type": "Image", "mediaType": "image/jpeg", "url": instance.url("/m/1.jpg")}
            ],
        )
        await _deliver(client, worker, instance, bob, instance.activity(bob, "Create", note))
    cached = {m.remote_url: m.is_cached for m in await MediaAttachment.all()}
    assert cached == {good.url("/m/1.jpg"): True, bad.url("/m/1.jpg"): False}
    assert good.hits("/m/1.jpg") == 1 and bad.hits("/m/1.jpg") == 0


async def test_lookup_by_handle_and_url(client, runtime, remote: FakeInstance, alice) -> None:
    bob = remote.add_actor("bob")
    found = await lookup(runtime, f"@{bob.handle}")
    assert found.account is not None and found.account.uri == bob.uri
    note = remote.note(bob, "<p>seen by url</p>")
    assert (await lookup(runtime, note["id"])).note is not None
    assert (await lookup(runtime, "@alice@redfed.test")).account.id == alice.id


async def test_domain_block_suspend_removes_content_and_unblock(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    note = remote.note(bob)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    await block_domain(remote.domain, reason="spam")
    assert not await Note.exists(uri=note["id"])
    assert (await Account.get(uri=bob.uri)).suspended_at is not None
    assert [b.domain for b in await list_domain_blocks()] == [remote.domain]
    assert await unblock_domain(remote.domain)
    assert (await Account.get(uri=bob.uri)).suspended_at is None
