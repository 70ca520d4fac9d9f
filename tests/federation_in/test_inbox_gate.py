"""The inboxes are answered before Quart (web/inbox.py InboxFastPath): the same guarantees as a
page request where they apply (security headers, body cap, error statuses), none of the page
machinery (no session, no cookie), and every other request still reaches Quart."""

from __future__ import annotations

import json

from redfed.inbox.intake import JobIntake
from redfed.models import Job
from redfed.services.jobs import utcnow
from tests.federation_in.conftest import snapshot
from tests.support.fediverse import FakeInstance


async def test_signed_post_is_202_with_security_headers_and_no_cookie(
    client, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    response = await remote.post(
        client, bob, "/users/alice/inbox", remote.activity(bob, "Create", remote.note(bob))
    )
    assert response.status_code == 202
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in response.headers
    assert await Job.filter(kind="inbox").count() == 1


async def test_refusal_is_json_with_the_public_message(client, remote: FakeInstance, alice) -> None:
    bob = remote.add_actor("bob")
    body = json.dumps(remote.activity(bob, "Create", remote.note(bob)))
    response = await client.post("/inbox", data=body, headers={"Host": "redfed.test"})
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert set(await response.get_json()) == {"error"}  # no detail: that is for the log


async def test_unknown_personal_inbox_is_404(client, remote: FakeInstance, alice) -> None:
    bob = remote.add_actor("bob")
    response = await remote.post(
        client, bob, "/users/nobody/inbox", remote.activity(bob, "Create", remote.note(bob))
    )
    assert response.status_code == 404


async def test_streamed_body_past_the_cap_is_413_without_content_length(
    app, client, runtime, alice
) -> None:
    # A chunked body announces no length: the cap must hold while reading (RES-01).
    cap = runtime.settings.federation.max_inbox_bytes
    before = await snapshot()
    async with client.request("/inbox", method="POST", headers={"Host": "redfed.test"}) as conn:
        for _ in range(cap // 65536 + 2):
            await conn.send(b" " * 65536)
        await conn.send_complete()
    response = await conn.as_response()  # once the app is done with the request
    assert response.status_code == 413
    assert await snapshot() == before


async def test_other_requests_on_inbox_paths_reach_quart(client, alice) -> None:
    # Not POST, or not exactly an inbox path: Quart's routing answers, not the inbox.
    assert (await client.get("/inbox", headers={"Host": "redfed.test"})).status_code == 404
    nested = await client.post("/users/a/b/inbox", data=b"{}", headers={"Host": "redfed.test"})
    assert nested.status_code == 404
    assert (await client.get("/healthz")).status_code == 200


async def test_an_id_another_process_made_too_does_not_fail_the_activity(alice) -> None:
    # Given a job whose id another server process also made in the same millisecond
    taken = await Job.create(unique_key="inbox:other", kind="inbox", payload={}, run_at=utcnow())
    job = Job(id=taken.id, unique_key="inbox:mine", kind="inbox", payload={}, run_at=utcnow())
    # When the intake writes it, then it is stored (under a fresh id), not answered 500
    assert await JobIntake().add(job) is True
    stored = await Job.get(unique_key="inbox:mine")
    assert stored.id == job.id != taken.id
