"""Remote actors kept fresh: a stale actor in use gets one background `refresh_actor` job that
refetches its document (and key) from the fake remote server over loopback."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from redfed.models import Account, Job, JobState, Note, Visibility
from redfed.services import actor_refresh
from redfed.services.actor_refresh import (
    REFRESH_ACTOR,
    REFRESHES_PER_DOMAIN,
    refresh_actor_job,
    refresh_if_stale,
)
from tests.support.fediverse import FakeInstance

from .conftest import warm

DAY_AND_A_BIT = timedelta(hours=25)


async def age(uri: str, by: timedelta = DAY_AND_A_BIT) -> Account:
    await Account.filter(uri=uri).update(fetched_at=datetime.now(UTC) - by)
    return await Account.get(uri=uri)


async def refresh_jobs() -> list[Job]:
    return list(await Job.filter(kind=REFRESH_ACTOR).order_by("id"))


async def test_a_stale_actor_is_refetched_with_its_new_key(
    client: Any, runtime: Any, worker: Any, remote: FakeInstance, alice: Account
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    bob_before = dataclasses.replace(bob)  # signs with the key we know
    like = remote.activity(bob, "Like", f"{alice.uri}/notes/1")
    assert (await remote.post(client, bob, "/inbox", like)).status_code == 202  # key cached
    # A day later Bob's server has renamed him and rotated his key.
    stored = await age(bob.uri)
    bob.rotate_key()
    bob.extra["name"] = "Bob Renamed"
    before = remote.hits("/users/bob")
    assert await refresh_if_stale(runtime, [stored]) == 1
    assert await refresh_if_stale(runtime, [stored]) == 0  # queued once
    await worker.run_until_idle()
    fresh = await Account.get(uri=bob.uri)
    assert fresh.display_name == "Bob Renamed"
    assert fresh.public_key_pem.strip() == bob.public_pem.strip()
    assert fresh.fetched_at is not None
    assert datetime.now(UTC) - fresh.fetched_at < timedelta(minutes=1)
    assert remote.hits("/users/bob") == before + 1
    [job] = await refresh_jobs()
    assert job.state == JobState.DONE and job.domain == remote.domain
    # The old key no longer verifies in this process: its cached copy was dropped.
    again = remote.activity(bob_before, "Like", f"{alice.uri}/notes/2")
    assert (await remote.post(client, bob_before, "/inbox", again)).status_code == 401


async def test_inbox_activity_queues_a_refresh_for_a_stale_signer(
    client: Any, runtime: Any, worker: Any, remote: FakeInstance, alice: Account
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    await age(bob.uri)
    bob.extra["name"] = "Bob Again"
    note = remote.note(bob)
    response = await remote.post(client, bob, "/inbox", remote.activity(bob, "Create", note))
    assert response.status_code == 202
    await worker.run_until_idle()
    [job] = await refresh_jobs()
    assert job.state == JobState.DONE
    assert (await Account.get(uri=bob.uri)).display_name == "Bob Again"
    # Fresh now: the next activity queues nothing.
    other = remote.note(bob)
    await remote.post(client, bob, "/inbox", remote.activity(bob, "Create", other))
    await worker.run_until_idle()
    assert len(await refresh_jobs()) == 1


async def test_showing_a_stale_actors_note_queues_one_refresh(
    client: Any, runtime: Any, worker: Any, remote: FakeInstance, alice: Account
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    stale = await age(bob.uri)
    note = await Note.create(
        account=stale,
        uri=f"{bob.uri}/statuses/1",
        visibility=Visibility.PUBLIC,
        published_at=datetime.now(UTC),
        content_html="<p>old friend</p>",
        local=False,
    )
    for _ in range(3):
        page = await client.get(f"/@{stale.acct}/{note.id}")
        assert page.status_code == 200
    assert len(await refresh_jobs()) == 1
    # Another process (an empty memory) offering it again still adds nothing: the unique key.
    runtime.state.pop(actor_refresh._STATE, None)
    assert await refresh_if_stale(runtime, [stale]) == 0
    assert len(await refresh_jobs()) == 1


async def test_only_stale_remote_actors_and_a_bounded_number_per_domain(
    runtime: Any, remote: FakeInstance, fediverse: Any, alice: Account
) -> None:
    other = await fediverse()
    many = [remote.add_actor(f"u{i}") for i in range(REFRESHES_PER_DOMAIN + 5)]
    elsewhere = other.add_actor("solo")
    await warm(runtime, *many, elsewhere)
    fresh_one = remote.add_actor("fresh")
    await warm(runtime, fresh_one)
    rows = [await age(a.uri) for a in [*many, elsewhere]]
    rows += [await Account.get(uri=fresh_one.uri), alice]  # fresh, and local: never queued
    assert await refresh_if_stale(runtime, rows) == REFRESHES_PER_DOMAIN + 1
    domains = [job.domain for job in await refresh_jobs()]
    assert domains.count(remote.domain) == REFRESHES_PER_DOMAIN
    assert domains.count(other.domain) == 1
    assert fresh_one.uri not in {job.payload["uri"] for job in await refresh_jobs()}
    # Once the window has passed, the rest of that domain gets its turn.
    gate = runtime.state[actor_refresh._STATE]
    gate.domains = {d: (start - 61, n) for d, (start, n) in gate.domains.items()}
    assert await refresh_if_stale(runtime, rows) == 5


async def test_refresh_job_outcomes_gone_retry_and_already_fresh(
    runtime: Any, remote: FakeInstance, alice: Account
) -> None:
    gone, flaky, done = (remote.add_actor(n) for n in ("gone", "flaky", "done"))
    await warm(runtime, gone, flaky, done)
    for actor in (gone, flaky):
        await age(actor.uri)
    remote.statuses["/users/gone"] = 410
    remote.statuses["/users/flaky"] = 503
    await refresh_actor_job(runtime, Job(kind=REFRESH_ACTOR, payload={"uri": gone.uri}))
    assert (await Account.get(uri=gone.uri)).gone_at is not None
    try:
        await refresh_actor_job(runtime, Job(kind=REFRESH_ACTOR, payload={"uri": flaky.uri}))
    except actor_refresh.RetryLater:
        pass
    else:
        raise AssertionError("a 503 must be retried")
    before = remote.hits("/users/done")
    await refresh_actor_job(runtime, Job(kind=REFRESH_ACTOR, payload={"uri": done.uri}))
    assert remote.hits("/users/done") == before  # not stale: nothing fetched
