"""Accepts whose id is reused for a later follow (Hollo names them after the follower)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from redfed.models import Account, Follow, FollowState, Job
from redfed.services import follows
from tests.federation_in.conftest import warm
from tests.support.fediverse import FakeInstance

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ap" / "hollo_accept.json"
HOLLO_BOB = "http://localhost:3100/@bob"
REDFED_ALICE = "https://redfed.test/users/alice"


def _hollo_accept(bob_uri: str, alice_uri: str, follow_uri: str) -> dict[str, Any]:
    """The captured Hollo Accept, moved onto the fake instance's actor and our follow."""
    doc = json.loads(FIXTURE.read_text())
    doc["object"]["id"] = follow_uri
    text = json.dumps(doc).replace(HOLLO_BOB, bob_uri).replace(REDFED_ALICE, alice_uri)
    return json.loads(text)


async def test_accept_of_a_second_follow_with_the_first_accepts_id(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    # Given alice follows bob (remote) and bob accepts, Hollo-style
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    bob_account = await Account.get(uri=bob.uri)
    first = await follows.follow_account(runtime, alice, bob_account)
    accept = _hollo_accept(bob.uri, alice.uri, first.uri)
    assert accept["id"] == f"{bob.uri}#accepts/{alice.uri}"
    assert (await remote.post(client, bob, "/users/alice/inbox", accept)).status_code == 202
    await worker.run_until_idle()
    assert (await Follow.get(id=first.id)).state == FollowState.ACCEPTED
    # When alice unfollows, follows again, and bob's Accept of the new follow reuses the id
    await follows.unfollow_account(runtime, alice, bob_account)
    second = await follows.follow_account(runtime, alice, bob_account)
    assert second.uri != first.uri and second.state == FollowState.PENDING
    again = _hollo_accept(bob.uri, alice.uri, second.uri)
    assert again["id"] == accept["id"]
    assert (await remote.post(client, bob, "/users/alice/inbox", again)).status_code == 202
    await worker.run_until_idle()
    # Then the new follow is accepted and counted once
    assert (await Follow.get(id=second.id)).state == FollowState.ACCEPTED
    assert (await Account.get(id=alice.id)).following_count == 1
    # And a replay of that same Accept (same id, same Follow) is still stored only once
    await remote.post(client, bob, "/inbox", again)
    keys = await Job.filter(kind="inbox").values_list("unique_key", flat=True)
    assert len(keys) == 2 and all(str(k).startswith(f"inbox:{accept['id']}|") for k in keys)
