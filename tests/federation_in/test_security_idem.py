"""IDEM-02 and IDEM-07: parallel copies make one row; likes and boosts of unknown or deleted
notes neither crash, nor fetch more than once, nor bring a deleted note back."""

from __future__ import annotations

import asyncio
from typing import Any

from redfed.models import Boost, Job, JobState, Like, Note, Notification, Tombstone
from redfed.services.jobs import utcnow
from tests.federation_in.conftest import snapshot, warm
from tests.support.fediverse import PUBLIC, FakeInstance


async def _deliver(client: Any, worker: Any, instance: FakeInstance, actor: Any, doc: Any) -> None:
    assert (await instance.post(client, actor, "/inbox", doc)).status_code == 202
    await worker.run_until_idle()


async def _inbox_jobs_settled(worker: Any) -> None:
    """Run retried jobs now rather than after their backoff (the clock moved by editing rows),
    until every inbox job has ended; none may end dead."""
    for _ in range(5):
        await worker.run_until_idle()
        waiting = Job.filter(kind="inbox", state=JobState.QUEUED)
        if not await waiting.exists():
            break
        await waiting.update(run_at=utcnow())
    assert not await Job.filter(kind="inbox").exclude(state=JobState.DONE).exists()


async def test_idem02_identical_posts_in_parallel_make_one_row(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    note = remote.note(bob, tag=[{"type": "Mention", "href": alice.uri}], cc=[alice.uri])
    create = remote.activity(bob, "Create", note)
    # When the same signed Create arrives ten times at once, at both inboxes
    paths = ["/inbox", "/users/alice/inbox"] * 5
    responses = await asyncio.gather(*(remote.post(client, bob, p, create) for p in paths))
    # Then every copy is accepted and stored once (unique on the activity id)
    assert [r.status_code for r in responses] == [202] * 10
    assert await Job.filter(kind="inbox").count() == 1
    await worker.run_until_idle()
    assert await Note.filter(uri=note["id"]).count() == 1
    assert await Notification.filter(recipient=alice, kind="mention").count() == 1


async def test_idem02_distinct_activities_for_one_object_in_parallel(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    # Given two Creates of one note and two Likes of it, each with its own activity id
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    note = remote.note(bob)
    creates = [remote.activity(bob, "Create", note) for _ in range(2)]
    await asyncio.gather(*(remote.post(client, bob, "/inbox", c) for c in creates))
    assert await Job.filter(kind="inbox").count() == 2
    # When the worker runs them side by side (one batch, concurrency > 1)
    await _inbox_jobs_settled(worker)
    # Then there is one note (unique on the object id), counted once for its author
    assert await Note.filter(uri=note["id"]).count() == 1
    stored = await Note.get(uri=note["id"])
    assert (await stored.account).notes_count == 1
    likes = [remote.activity(bob, "Like", note["id"]) for _ in range(3)]
    await asyncio.gather(*(remote.post(client, bob, "/inbox", like) for like in likes))
    await _inbox_jobs_settled(worker)
    assert await Like.filter(note=stored).count() == 1
    assert (await Note.get(id=stored.id)).likes_count == 1


async def test_idem07_like_and_announce_of_unknown_notes(
    client, worker, runtime, fediverse, alice
) -> None:
    home, other = await fediverse(), await fediverse()
    bob, carol = home.add_actor("bob"), other.add_actor("carol")
    await warm(runtime, bob)
    unknown = home.note(bob)  # served by its origin, never sent to us
    missing = other.url("/users/carol/statuses/404")  # answers 404
    broken = other.note(carol)
    other.statuses[broken["id"].split(other.domain, 1)[1]] = 500
    before = await snapshot()
    # A Like of a note we never stored tells nobody here anything: no fetch, nothing stored
    for target in (unknown["id"], missing, broken["id"]):
        await _deliver(client, worker, home, bob, home.activity(bob, "Like", target))
    assert await snapshot() == before
    assert home.hits(unknown["id"].split(home.domain, 1)[1]) == 0
    assert other.requests == []
    # An Announce of an unknown note asks its origin once; a 404 or 500 ends it quietly
    for target in (missing, broken["id"]):
        await _deliver(
            client, worker, home, bob, home.activity(bob, "Announce", target, to=[PUBLIC])
        )
        assert other.hits(target.split(other.domain, 1)[1]) == 1
    assert not await Note.exists() and not await Boost.exists()
    assert not await Job.filter(kind="inbox").exclude(state=JobState.DONE).exists()


async def test_idem07_like_and_announce_of_a_deleted_note(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    # Given bob's note, stored, then deleted (its origin still serves the old copy)
    bob, carol = remote.add_actor("bob"), remote.add_actor("carol")
    await warm(runtime, bob, carol)
    note = remote.note(bob)
    path = note["id"].split(remote.domain, 1)[1]
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Delete", note["id"]))
    assert not await Note.exists(uri=note["id"]) and await Tombstone.exists(uri=note["id"])
    fetched = remote.hits(path)
    before = await snapshot()
    # When likes and boosts of it arrive late, embedded or by id, and a new Create too
    for kind in ("Like", "Announce"):
        await _deliver(client, worker, remote, carol, remote.activity(carol, kind, note["id"]))
        await _deliver(client, worker, remote, carol, remote.activity(carol, kind, note))
    await _deliver(client, worker, remote, carol, remote.activity(carol, "Create", note["id"]))
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    # Then nothing comes back, nothing is fetched, nothing failed
    assert await snapshot() == before
    assert remote.hits(path) == fetched
    assert not await Job.filter(kind="inbox").exclude(state=JobState.DONE).exists()
