"""The inbox front door against really signed requests from fake remote instances."""

from __future__ import annotations

import json

from redfed.models import Account, Job, Note
from tests.federation_in.conftest import snapshot
from tests.support.fediverse import FakeInstance


async def test_signed_create_is_stored_once_and_applied(
    client, worker, remote: FakeInstance, alice
) -> None:
    # Given a remote actor and a public note
    bob = remote.add_actor("bob")
    create = remote.activity(bob, "Create", remote.note(bob, "<p>hi #Travel</p>"))
    # When it arrives twice (shared inbox, then personal inbox: IDEM-01, SIG-20)
    first = await remote.post(client, bob, "/inbox", create)
    second = await remote.post(client, bob, "/users/alice/inbox", create)
    await worker.run_until_idle()
    # Then one job, one note
    assert (first.status_code, second.status_code) == (202, 202)
    assert await Job.filter(kind="inbox").count() == 1
    note = await Note.get(uri=create["object"]["id"])
    assert note.local is False and "hi" in note.content_html
    assert (await Account.get(uri=bob.uri)).domain == remote.domain


async def test_unsigned_post_is_refused_without_state_change(
    client, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    create = remote.activity(bob, "Create", remote.note(bob))
    before = await snapshot()
    response = await client.post("/inbox", data=json.dumps(create), headers={"Host": "redfed.test"})
    assert response.status_code == 401
    assert await snapshot() == before
