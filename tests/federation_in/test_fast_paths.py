"""The inbox's fast paths keep their guarantees: the domain-block copy in memory, the key cache,
the one-statement enqueue and the batched tag links."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from redfed.inbox.intake import JobIntake
from redfed.models import Account, DomainBlock, DomainSeverity, Job, Note, NoteTag, Tag, Visibility
from redfed.services import jobs, moderation
from redfed.services.moderation import block_domain, is_suspended_domain, unblock_domain
from tests.federation_in.conftest import snapshot
from tests.support.fediverse import FakeInstance


async def _create(client: Any, worker: Any, remote: FakeInstance, actor: Any, **note: Any) -> Any:
    activity = remote.activity(actor, "Create", remote.note(actor, **note))
    response = await remote.post(client, actor, "/inbox", activity)
    await worker.run_until_idle()
    return response, activity["object"]["id"]


async def test_block_made_here_applies_at_once_and_unblock_too(
    client, worker, remote: FakeInstance, alice
) -> None:
    # Given bob's key and the block table are both in memory after a first Create
    bob = remote.add_actor("bob")
    response, first = await _create(client, worker, remote, bob)
    assert response.status_code == 202 and await Note.exists(uri=first)
    # When this process suspends bob's domain, the next Create is dropped with no change
    await block_domain(remote.domain)
    before = await snapshot()
    response, dropped = await _create(client, worker, remote, bob)
    assert response.status_code == 202
    assert await snapshot() == before and not await Note.exists(uri=dropped)
    # And when it lifts the block, bob is heard again at once (his suspension was not cached)
    assert await unblock_domain(remote.domain)
    response, again = await _create(client, worker, remote, bob)
    assert response.status_code == 202 and await Note.exists(uri=again)


async def test_block_made_by_another_process_applies_within_the_ttl(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the block table read into memory (nothing blocked)
    assert not await is_suspended_domain("evil.example")
    # When another process adds a block (a row written behind this process's back: a
    # bulk_create sends no save signal, which would make this process forget its copy)
    await DomainBlock.bulk_create(
        [DomainBlock(domain="evil.example", severity=DomainSeverity.SUSPEND)]
    )
    # Then the copy in memory is used until its TTL ends (the documented delay) ...
    assert not await is_suspended_domain("a.evil.example")
    # ... and once it has ended the block applies, subdomains included
    later = moderation._cache.clock() + moderation.BLOCKS_TTL_SECONDS + 0.1
    monkeypatch.setattr(moderation._cache, "clock", lambda: later)
    assert await is_suspended_domain("a.evil.example")
    assert await moderation.first_suspended("ok.example", "evil.example") == "evil.example"


async def test_a_reopened_database_does_not_see_the_old_copy(db: str) -> None:
    # The copy belongs to the database it was read from (tests reopen one per test).
    await DomainBlock.create(domain="old.example", severity=DomainSeverity.SUSPEND)
    assert await is_suspended_domain("old.example")
    from redfed.db import close_database, open_database

    await close_database()
    await open_database(db)
    await DomainBlock.filter(domain="old.example").delete()
    assert not await is_suspended_domain("old.example")


async def test_a_cached_key_that_stops_verifying_is_refetched_once(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    # Given bob's key verified once (now in memory)
    bob = remote.add_actor("bob")
    assert (await _create(client, worker, remote, bob))[0].status_code == 202
    # When bob rotates his key, the cached key fails and is refreshed from his server once
    bob.rotate_key()
    fetches = remote.hits("/users/bob")
    response, uri = await _create(client, worker, remote, bob)
    assert response.status_code == 202 and await Note.exists(uri=uri)
    assert remote.hits("/users/bob") - fetches == 1
    # And the refreshed key is the one kept: the next Create needs no fetch
    response, uri = await _create(client, worker, remote, bob)
    assert response.status_code == 202 and remote.hits("/users/bob") - fetches == 1


async def test_a_new_key_stored_by_another_process_is_used_without_a_fetch(
    client, worker, remote: FakeInstance, alice
) -> None:
    # Given bob's old key in memory, and his new key already stored by another process
    bob = remote.add_actor("bob")
    assert (await _create(client, worker, remote, bob))[0].status_code == 202
    bob.rotate_key()
    await Account.filter(uri=bob.uri).update(public_key_pem=bob.public_pem)
    fetches = remote.hits("/users/bob")
    # When bob signs with the new key, the database (second level) answers: no fetch
    response, uri = await _create(client, worker, remote, bob)
    assert response.status_code == 202 and await Note.exists(uri=uri)
    assert remote.hits("/users/bob") == fetches


async def test_enqueue_duplicate_keeps_the_transaction_and_stores_a_claimable_job(
    db: str,
) -> None:
    async with in_transaction():
        first = await jobs.enqueue("inbox", {"n": 1, "t": "中文"}, unique_key="inbox:x")
        second = await jobs.enqueue("inbox", {"n": 2}, unique_key="inbox:x")
        # a write after the conflict still works: the transaction was not aborted
        await Tag.create(name="after")
    assert first is not None and second is None
    assert await Tag.exists(name="after")
    [claimed] = await jobs.claim_due_jobs("test", 10, ["inbox"])
    assert claimed.id == first.id and claimed.payload == {"n": 1, "t": "中文"}
    assert claimed.max_attempts == 16 and claimed.created_at is not None


async def test_tags_are_linked_in_a_batch_with_existing_and_repeated_names(
    client, worker, remote: FakeInstance, alice
) -> None:
    await Tag.create(name="travel")
    bob = remote.add_actor("bob")
    tags = [{"type": "Hashtag", "name": f"#{n}"} for n in ("travel", "food", "Travel", "food")]
    activity = remote.activity(bob, "Create", remote.note(bob, tag=tags))
    assert (await remote.post(client, bob, "/inbox", activity)).status_code == 202
    await worker.run_until_idle()
    note = await Note.get(uri=activity["object"]["id"])
    linked = await NoteTag.filter(note_id=note.id).values_list("tag__name", flat=True)
    assert sorted(linked) == ["food", "travel"]
    assert await Tag.all().count() == 2
    assert (await Account.get(uri=bob.uri)).notes_count == 1
    assert await Job.filter(kind="inbox", state="done").count() == 1


async def test_group_commit_answers_each_job_alone(db: str) -> None:
    # Given jobs arriving together: a new one, a replay of it, and one the database refuses
    def job(key: str) -> Job:
        return Job(unique_key=key, kind="inbox", payload={}, run_at=jobs.utcnow())

    intake = JobIntake()
    good, replay, bad = job("inbox:a"), job("inbox:a"), job("inbox:b")
    bad.run_at = None  # type: ignore[assignment]  # NOT NULL: refused by either database
    # When they are written in one batch
    results = await asyncio.gather(
        intake.add(good), intake.add(replay), intake.add(bad), return_exceptions=True
    )
    # Then the new one is stored once, the replay is told so, and only the bad one fails
    assert results[0] is True and results[1] is False
    assert isinstance(results[2], IntegrityError)
    assert await Job.filter(unique_key="inbox:a").values_list("id", flat=True) == [good.id]
    assert not await Job.exists(unique_key="inbox:b")


async def test_concurrent_copies_of_one_activity_are_stored_once(
    client, worker, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await _create(client, worker, remote, bob)  # bob's key is known
    activity = remote.activity(bob, "Create", remote.note(bob))
    responses = await asyncio.gather(
        *(remote.post(client, bob, path, activity) for path in ("/inbox",) * 3)
    )
    assert [r.status_code for r in responses] == [202] * 3
    assert await Job.filter(unique_key=f"inbox:{activity['id']}").count() == 1
    await worker.run_until_idle()
    assert await Note.filter(uri=activity["object"]["id"]).count() == 1


async def test_a_reply_stored_before_its_parent_is_linked_when_the_parent_comes(
    client, worker, remote: FakeInstance, alice
) -> None:
    # Given a reply whose parent its server cannot serve yet (IDEM-06)
    bob = remote.add_actor("bob")
    parent = remote.note(bob, "<p>parent</p>", store=False)
    reply = remote.note(bob, "<p>reply</p>", inReplyTo=parent["id"])
    response = await remote.post(client, bob, "/inbox", remote.activity(bob, "Create", reply))
    await worker.run_until_idle()
    assert response.status_code == 202
    assert (await Note.get(uri=reply["id"])).in_reply_to_id is None
    # When the parent's Create arrives
    activity = remote.activity(bob, "Create", parent)
    assert (await remote.post(client, bob, "/inbox", activity)).status_code == 202
    await worker.run_until_idle()
    # Then the reply hangs under it, and the counts are right
    stored_parent, stored_reply = await Note.get(uri=parent["id"]), await Note.get(uri=reply["id"])
    assert stored_reply.in_reply_to_id == stored_parent.id
    assert stored_reply.root_id == stored_parent.id
    assert (await Account.get(uri=bob.uri)).notes_count == 2


async def test_unsigned_post_from_a_suspended_domain_is_dropped_quietly(
    client, remote: FakeInstance, alice
) -> None:
    # The actor's domain is checked also when the signature cannot even be parsed (202, as before)
    bob = remote.add_actor("bob")
    await block_domain(remote.domain)
    before = await snapshot()
    activity = remote.activity(bob, "Create", remote.note(bob))
    response = await client.post("/inbox", json=activity)
    assert response.status_code == 202
    assert await snapshot() == before and remote.requests == []
    # while an unsigned post from anywhere else is refused
    other = remote.activity(bob, "Create", remote.note(bob))
    other["actor"] = "https://elsewhere.example/users/x"
    assert (await client.post("/inbox", json=other)).status_code == 401


async def test_an_actor_update_is_seen_by_the_next_activity_at_once(
    client, worker, remote: FakeInstance, alice
) -> None:
    # Given bob's row read for a first Create (and kept briefly for his next activities)
    bob = remote.add_actor("bob")
    assert (await _create(client, worker, remote, bob))[0].status_code == 202
    # When bob moves his followers collection and says so in an Update
    bob.extra["followers"] = f"{bob.uri}/fans"
    update = remote.activity(bob, "Update", bob.document())
    assert (await remote.post(client, bob, "/inbox", update)).status_code == 202
    await worker.run_until_idle()
    # Then a note to the new collection is understood as followers-only right away
    note = remote.note(bob, to=[f"{bob.uri}/fans"], cc=[])
    activity = remote.activity(bob, "Create", note)
    assert (await remote.post(client, bob, "/inbox", activity)).status_code == 202
    await worker.run_until_idle()
    assert (await Note.get(uri=note["id"])).visibility == Visibility.FOLLOWERS
