"""RES-05 and RES-06: remote collections and reply chains cannot make us fetch without end.

RES-05: redfed walks no remote collection. Nothing reads a remote outbox, featured collection,
followers/following list or `replies` collection (no backfill): we store what is delivered to
us and what a bounded reply-parent fetch brings (RES-06). So there is no collection reader to
bound; the test below pins that down: a remote actor and notes whose collections page forever
(`next` is itself, A -> B -> A, endless pages) go through first contact, follow, Create,
Announce and lookup, and none of those collections is ever requested. A backfill added later
must bring its own visited set and page cap, and change this test.

RES-06: a reply's parents are fetched to services.remote_notes.MAX_REPLY_DEPTH at most, however
deep the chain (10,000 here); in a cycle each note is fetched once, and the cycle is never stored
as a loop of parent links.
"""

from __future__ import annotations

from typing import Any

from redfed.models import Job, JobState, Note
from redfed.services import timelines
from redfed.services.lookup import lookup
from redfed.services.remote_notes import MAX_REPLY_DEPTH
from tests.federation_in.conftest import warm
from tests.support.fediverse import AS_CONTEXT, PUBLIC, FakeInstance


async def _deliver(client: Any, worker: Any, instance: FakeInstance, actor: Any, doc: Any) -> None:
    assert (await instance.post(client, actor, "/inbox", doc)).status_code == 202
    await worker.run_until_idle()


def _endless_collection(instance: FakeInstance, base: str) -> list[str]:
    """A collection at `base` whose pages never end: page 1 -> itself, page a <-> page b, and a
    `last`/`next` chain made of fresh URLs. Returns the paths involved."""
    first, a, b = f"{base}?page=1", f"{base}/a", f"{base}/b"
    instance.put(
        {
            "@context": AS_CONTEXT,
            "id": base,
            "type": "OrderedCollection",
            "totalItems": 10**9,
            "first": first,
            "last": a,
        }
    )
    instance.objects[base.split(instance.domain, 1)[1] + "?page=1"] = {
        "id": first,
        "type": "OrderedCollectionPage",
        "next": first,
        "orderedItems": [],
    }
    instance.put({"id": a, "type": "OrderedCollectionPage", "next": b, "orderedItems": []})
    instance.put({"id": b, "type": "OrderedCollectionPage", "next": a, "orderedItems": []})
    return [
        base.split(instance.domain, 1)[1],
        f"{base}/a".split(instance.domain, 1)[1],
        f"{base}/b".split(instance.domain, 1)[1],
    ]


async def test_res05_no_remote_collection_is_ever_walked(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    collections = {
        name: remote.url(f"/users/bob/{name}")
        for name in ("outbox", "followers", "following", "collections/featured")
    }
    bob.extra["featured"] = collections["collections/featured"]
    watched: list[str] = []
    for url in collections.values():
        watched += _endless_collection(remote, url)
    replies = remote.url("/users/bob/replies-of-1")
    watched += _endless_collection(remote, replies)
    # First contact, a follow both ways, a Create and an Announce of notes with `replies`
    await lookup(runtime, f"@{bob.handle}")
    await warm(runtime, bob)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Follow", alice.uri))
    note = remote.note(bob, replies=replies)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    boosted = remote.note(bob, replies={"id": replies, "type": "Collection", "first": replies})
    await _deliver(
        client, worker, remote, bob, remote.activity(bob, "Announce", boosted["id"], to=[PUBLIC])
    )
    await lookup(runtime, boosted["id"])
    assert await Note.filter(uri__in=[note["id"], boosted["id"]]).count() == 2
    # None of the endless collections was asked for even once
    asked = {p.split("?")[0] for _m, p, _h, _b in remote.requests}
    assert asked.isdisjoint(watched), sorted(asked & set(watched))


async def test_res06_reply_chain_10000_deep_is_fetched_to_a_bounded_depth(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    # Given a chain of 10,000 replies on bob's server, of which we receive only the last
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    parent: dict[str, Any] | None = None
    for _ in range(10_000):
        extra = {"inReplyTo": parent["id"]} if parent else {}
        parent = remote.note(bob, **extra)
    assert parent is not None
    before = len(remote.requests)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", parent))
    # Then at most MAX_REPLY_DEPTH parents were fetched, and the note is stored all the same
    fetched = len(remote.requests) - before
    assert 1 <= fetched <= MAX_REPLY_DEPTH + 1
    assert await Note.exists(uri=parent["id"])
    assert await Note.all().count() <= MAX_REPLY_DEPTH + 2
    assert not await Job.filter(kind="inbox").exclude(state=JobState.DONE).exists()


async def test_res06_reply_cycles_are_bounded_and_not_stored_as_loops(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    # A <-> B reply to each other, C replies to A, and S replies to itself
    a_id, b_id = remote.new_id(bob, "statuses"), remote.new_id(bob, "statuses")
    a = remote.note(bob, "<p>a</p>", id=a_id, url=a_id, inReplyTo=b_id)
    b = remote.note(bob, "<p>b</p>", id=b_id, url=b_id, inReplyTo=a_id)
    c = remote.note(bob, "<p>c</p>", inReplyTo=a_id, store=False)
    s_id = remote.new_id(bob, "statuses")
    s = remote.note(bob, "<p>s</p>", id=s_id, url=s_id, inReplyTo=s_id, store=False)
    before = len(remote.requests)
    for note in (c, s):
        await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    # A and B fetched once each: a parent met again up the chain is a cycle, not refetched
    assert len(remote.requests) - before == 2
    assert not await Job.filter(kind="inbox").exclude(state=JobState.DONE).exists()
    # Every note is stored once, and following parents from any of them ends (no loop stored)
    stored = {n.uri: n for n in await Note.all()}
    assert set(stored) == {a["id"], b["id"], c["id"], s["id"]}
    by_id = {n.id: n for n in stored.values()}
    for note in stored.values():
        seen, current = set(), note
        while current.in_reply_to_id is not None:  # type: ignore[attr-defined]
            assert current.id not in seen, f"reply loop through {current.uri}"
            seen.add(current.id)
            current = by_id[current.in_reply_to_id]  # type: ignore[attr-defined]
    # And their threads render
    for note in stored.values():
        await timelines.thread(alice, note)
