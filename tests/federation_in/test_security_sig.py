"""SIG rows of the security catalogue: every refused request leaves the database untouched."""

from __future__ import annotations

import json
import uuid

from redfed.federation.signatures import sign_request
from redfed.models import Account, Note
from redfed.services.moderation import block_domain
from tests.federation_in.conftest import snapshot, warm
from tests.support.fediverse import AP_TYPE, FakeInstance


async def _post_with_key(
    client, key_id: str, private_pem: str, activity: dict, path: str = "/inbox"
):
    body = json.dumps(activity).encode()
    headers = sign_request(
        "POST",
        f"https://redfed.test{path}",
        body=body,
        key_id=key_id,
        private_key_pem=private_pem,
        headers={"Content-Type": AP_TYPE},
    )
    return await client.post(path, data=body, headers=headers)


async def test_sig14_signer_must_be_the_actor(client, worker, runtime, fediverse, alice) -> None:
    # Given evil (known, valid key) and a victim on another server
    evil_host, victim_host = await fediverse(), await fediverse()
    evil, victim = evil_host.add_actor("evil"), victim_host.add_actor("victim")
    await warm(runtime, evil)
    create = victim_host.activity(victim, "Create", victim_host.note(victim, store=False))
    before = await snapshot()
    # When evil signs an activity claiming to be the victim's
    response = await evil_host.post(client, evil, "/inbox", create)
    await worker.run_until_idle()
    # Then 401 and nothing changed
    assert response.status_code == 401
    assert await snapshot() == before


async def test_sig15_key_owned_by_someone_else_is_refused(client, worker, fediverse, alice) -> None:
    evil_host, victim_host = await fediverse(), await fediverse()
    evil, victim = evil_host.add_actor("evil"), victim_host.add_actor("victim")
    # evil publishes a key document that claims the victim as owner
    key_id = evil_host.url("/keys/1")
    evil_host.objects["/keys/1"] = {
        "id": key_id,
        "owner": victim.uri,
        "publicKeyPem": evil.public_pem,
    }
    create = victim_host.activity(victim, "Create", victim_host.note(victim, store=False))
    before = await snapshot()
    response = await _post_with_key(client, key_id, evil.private_pem, create)
    await worker.run_until_idle()
    assert response.status_code == 401
    assert await snapshot() == before


async def test_sig15_same_host_owner_not_listing_the_key(
    client, worker, remote: FakeInstance, alice
) -> None:
    victim, evil = remote.add_actor("victim"), remote.add_actor("evil")
    key_id = remote.url("/keys/evil")
    remote.objects["/keys/evil"] = {
        "id": key_id,
        "owner": victim.uri,
        "publicKeyPem": evil.public_pem,
    }
    create = remote.activity(victim, "Create", remote.note(victim, store=False))
    before = await snapshot()
    response = await _post_with_key(client, key_id, evil.private_pem, create)
    assert response.status_code == 401
    assert await snapshot() == before


async def test_sig16_unknown_keys_from_one_source_fetch_once(
    client, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    create = remote.activity(bob, "Create", remote.note(bob, store=False))
    before = await snapshot()
    statuses = set()
    for _ in range(25):  # each with a fresh, unknown keyId on the same host
        key_id = remote.url(f"/keys/{uuid.uuid4().hex}")
        statuses.add((await _post_with_key(client, key_id, bob.private_pem, create)).status_code)
    assert statuses == {401}
    assert sum(1 for m, p, _h, _b in remote.requests if m == "GET" and p.startswith("/keys/")) == 1
    assert await snapshot() == before


async def test_sig16_bad_signatures_with_known_key_refetch_once(
    client, runtime, remote: FakeInstance, alice
) -> None:
    bob, other = remote.add_actor("bob"), remote.add_actor("other")
    await warm(runtime, bob)
    fetches_before = remote.hits("/users/bob")
    create = remote.activity(bob, "Create", remote.note(bob, store=False))
    for _ in range(10):  # signed with someone else's private key under bob's keyId
        assert (
            await _post_with_key(client, bob.key_id, other.private_pem, create)
        ).status_code == 401
    assert remote.hits("/users/bob") - fetches_before == 1


async def test_sig17_rotated_key_is_refreshed_once(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    old_pem = (await Account.get(uri=bob.uri)).public_key_pem
    bob.rotate_key()
    fetches_before = remote.hits("/users/bob")
    create = remote.activity(bob, "Create", remote.note(bob))
    response = await remote.post(client, bob, "/inbox", create)
    await worker.run_until_idle()
    assert response.status_code == 202
    assert remote.hits("/users/bob") - fetches_before == 1
    assert (await Account.get(uri=bob.uri)).public_key_pem not in ("", old_pem)
    assert await Note.exists(uri=create["object"]["id"])


async def test_sig13_blocked_domain_dropped_without_key_fetch(
    client, worker, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await block_domain(remote.domain)
    before = await snapshot()
    response = await remote.post(
        client, bob, "/inbox", remote.activity(bob, "Create", remote.note(bob))
    )
    await worker.run_until_idle()
    assert response.status_code == 202
    assert remote.requests == []
    assert await snapshot() == before


async def test_sig11_key_gone_refuses_and_marks_actor_gone(
    client, runtime, remote: FakeInstance, alice
) -> None:
    bob, other = remote.add_actor("bob"), remote.add_actor("other")
    await warm(runtime, bob)
    remote.statuses["/users/bob"] = 410
    create = remote.activity(bob, "Create", remote.note(bob, store=False))
    response = await _post_with_key(client, bob.key_id, other.private_pem, create)
    assert response.status_code == 401
    assert (await Account.get(uri=bob.uri)).gone_at is not None


async def test_sig11_key_answers_html_or_404(client, remote: FakeInstance, alice) -> None:
    bob = remote.add_actor("bob")
    remote.statuses["/users/bob"] = 404
    before = await snapshot()
    response = await remote.post(
        client, bob, "/inbox", remote.activity(bob, "Create", remote.note(bob))
    )
    assert response.status_code == 401
    assert await snapshot() == before


async def test_sig02_body_changed_after_signing(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    create = remote.activity(bob, "Create", remote.note(bob))
    body = json.dumps(create).encode()
    headers = remote.signed_headers(bob, "POST", "https://redfed.test/inbox", body)
    tampered = body.replace(b"hello", b"HACKED")
    before = await snapshot()
    response = await client.post("/inbox", data=tampered, headers=headers)
    await worker.run_until_idle()
    assert response.status_code == 401
    assert await snapshot() == before


async def test_sig06_signature_for_another_inbox(
    client, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    body = json.dumps(remote.activity(bob, "Create", remote.note(bob))).encode()
    headers = remote.signed_headers(bob, "POST", "https://redfed.test/users/alice/inbox", body)
    before = await snapshot()
    assert (await client.post("/inbox", data=body, headers=headers)).status_code == 401
    assert await snapshot() == before


async def test_unknown_recipient_is_404(client, remote: FakeInstance, alice) -> None:
    bob = remote.add_actor("bob")
    response = await remote.post(
        client, bob, "/users/nobody/inbox", remote.activity(bob, "Create", remote.note(bob))
    )
    assert response.status_code == 404
    assert remote.requests == []
