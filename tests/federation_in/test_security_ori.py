"""ORI (to ORI-13), PRIV, IDEM, RES and SSRF-07 rows: authority and idempotence of activities."""

from __future__ import annotations

import json

from redfed.models import (
    Account,
    Boost,
    Follow,
    FollowState,
    Job,
    MediaAttachment,
    Note,
    Visibility,
)
from redfed.services.lookup import lookup
from tests.federation_in.conftest import snapshot, warm
from tests.support.fediverse import PUBLIC, FakeInstance


async def _deliver(
    client, worker, instance: FakeInstance, actor, activity, path: str = "/inbox"
) -> int:
    response = await instance.post(client, actor, path, activity)
    await worker.run_until_idle()
    return response.status_code


async def test_ori10_context_redefining_core_terms(
    client, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    create = remote.activity(bob, "Create", remote.note(bob))
    create["@context"] = ["https://www.w3.org/ns/activitystreams", {"actor": "as:attributedTo"}]
    before = await snapshot()
    assert (await remote.post(client, bob, "/inbox", create)).status_code == 400
    assert await snapshot() == before


async def test_ori09_graph_keywords_refused(client, runtime, remote: FakeInstance, alice) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    create = remote.activity(bob, "Create", {"@graph": [remote.note(bob)]})
    before = await snapshot()
    assert (await remote.post(client, bob, "/inbox", create)).status_code == 400
    assert await snapshot() == before


async def test_res02_deep_json_is_400(client, remote: FakeInstance, alice) -> None:
    body = b'{"a":' * 5000 + b"1" + b"}" * 5000
    response = await client.post("/inbox", data=body, headers={"Host": "redfed.test"})
    assert response.status_code == 400


async def test_res01_oversized_body_is_413(client, remote: FakeInstance, alice) -> None:
    before = await snapshot()
    response = await client.post(
        "/inbox", data=b" " * (1024 * 1024 + 1), headers={"Host": "redfed.test"}
    )
    assert response.status_code == 413
    assert await snapshot() == before


async def test_ori01_update_of_another_actor_profile(
    client, worker, runtime, fediverse, alice
) -> None:
    evil_host, victim_host = await fediverse(), await fediverse()
    evil, victim = evil_host.add_actor("evil"), victim_host.add_actor("victim")
    await warm(runtime, evil, victim)
    forged = victim.document() | {"inbox": evil_host.url("/steal"), "name": "pwned"}
    forged["publicKey"] = {
        "id": victim.key_id,
        "owner": victim.uri,
        "publicKeyPem": evil.public_pem,
    }
    before = await snapshot()
    status = await _deliver(
        client, worker, evil_host, evil, evil_host.activity(evil, "Update", forged)
    )
    assert status == 202
    assert await snapshot() == before


async def test_sig18_key_in_update_comes_from_origin(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob, mallory = remote.add_actor("bob"), remote.add_actor("mallory")
    await warm(runtime, bob)
    stored = (await Account.get(uri=bob.uri)).public_key_pem
    doc = bob.document() | {"name": "Bob B."}
    doc["publicKey"] = {"id": bob.key_id, "owner": bob.uri, "publicKeyPem": mallory.public_pem}
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Update", doc))
    account = await Account.get(uri=bob.uri)
    assert account.public_key_pem == stored  # the origin still publishes the old key
    assert account.display_name == "Bob"  # refreshed from the origin, not the embedded copy


async def test_ori02_embedded_note_of_another_server_is_refetched(
    client, worker, runtime, fediverse, alice
) -> None:
    evil_host, victim_host = await fediverse(), await fediverse()
    evil, victim = evil_host.add_actor("evil"), victim_host.add_actor("victim")
    await warm(runtime, evil)
    real = victim_host.note(victim, "<p>the real text</p>")
    fake = dict(real, content="<p>forged words</p>")
    fake_missing = dict(real, id=victim_host.url("/users/victim/statuses/404"))
    await _deliver(client, worker, evil_host, evil, evil_host.activity(evil, "Create", fake))
    await _deliver(
        client, worker, evil_host, evil, evil_host.activity(evil, "Create", fake_missing)
    )
    note = await Note.get(uri=real["id"])
    assert "the real text" in note.content_html and "forged" not in note.content_html
    assert not await Note.exists(uri=fake_missing["id"])


async def test_ori08_attributed_to_someone_else(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob, carol = remote.add_actor("bob"), remote.add_actor("carol")
    await warm(runtime, bob, carol)
    for author in (carol.uri, alice.uri):
        note = remote.note(bob, attributedTo=author)
        before = await snapshot()
        await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
        assert await snapshot() == before


async def test_ori07_update_by_another_actor_of_the_same_host(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob, carol = remote.add_actor("bob"), remote.add_actor("carol")
    await warm(runtime, bob, carol)
    note = remote.note(bob, "<p>original</p>")
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    forged = dict(
        note, content="<p>changed</p>", attributedTo=carol.uri, updated="2099-01-01T00:00:00Z"
    )
    before = await snapshot()
    await _deliver(client, worker, remote, carol, remote.activity(carol, "Update", forged))
    assert await snapshot() == before


async def test_ori06_create_naming_a_stored_note_changes_nothing(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    note = remote.note(bob, public=False)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    widened = dict(note, to=[PUBLIC], cc=[alice.uri])
    before = await snapshot()
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", widened))
    assert await snapshot() == before
    assert (await Note.get(uri=note["id"])).visibility == Visibility.FOLLOWERS


async def test_ori11_accept_by_someone_other_than_the_followee(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob, carol = remote.add_actor("bob", locked=True), remote.add_actor("carol")
    await warm(runtime, bob, carol)
    bob_account = await Account.get(uri=bob.uri)
    follow = await Follow.create(follower=alice, followee=bob_account, uri=f"{alice.uri}#follows/1")
    follow_doc = {"id": follow.uri, "type": "Follow", "actor": alice.uri, "object": bob.uri}
    before = await snapshot()
    await _deliver(client, worker, remote, carol, remote.activity(carol, "Accept", follow_doc))
    await _deliver(client, worker, remote, carol, remote.activity(carol, "Accept", follow.uri))
    assert await snapshot() == before
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Accept", follow.uri))
    assert (await Follow.get(id=follow.id)).state == FollowState.ACCEPTED
    assert (await Account.get(id=alice.id)).following_count == 1


async def test_ori12_undo_of_someone_elses_follow(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob, carol = remote.add_actor("bob"), remote.add_actor("carol")
    await warm(runtime, bob, carol)
    follow = remote.activity(bob, "Follow", alice.uri)
    await _deliver(client, worker, remote, bob, follow)
    assert await Follow.exists(follower__uri=bob.uri, followee=alice)
    before = await snapshot()
    await _deliver(client, worker, remote, carol, remote.activity(carol, "Undo", follow))
    await _deliver(client, worker, remote, carol, remote.activity(carol, "Undo", follow["id"]))
    assert await snapshot() == before


async def test_priv01_announce_of_a_followers_only_note(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob, carol = remote.add_actor("bob"), remote.add_actor("carol")
    await warm(runtime, bob, carol)
    note = remote.note(bob, public=False)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    before = await snapshot()
    await _deliver(
        client, worker, remote, carol, remote.activity(carol, "Announce", note["id"], to=[PUBLIC])
    )
    assert await snapshot() == before
    public = remote.note(bob)
    await _deliver(
        client, worker, remote, carol, remote.activity(carol, "Announce", public["id"], to=[PUBLIC])
    )
    assert await Boost.filter(note__uri=public["id"]).count() == 1


async def test_idem03_delete_before_create(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    note = remote.note(bob)
    await _deliver(
        client,
        worker,
        remote,
        bob,
        remote.activity(bob, "Delete", {"id": note["id"], "type": "Tombstone"}),
    )
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    assert not await Note.exists(uri=note["id"])


async def test_idem04_undo_follow_before_follow(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    follow = remote.activity(bob, "Follow", alice.uri)
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Undo", follow["id"]))
    await _deliver(client, worker, remote, bob, follow)
    assert not await Follow.exists(followee=alice)


async def test_idem05_older_update_and_replay_ignored(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    note = remote.note(bob, "<p>v1</p>", published="2026-01-01T00:00:00Z")
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    v3 = dict(note, content="<p>v3</p>", updated="2026-01-03T00:00:00Z")
    v2 = dict(note, content="<p>v2</p>", updated="2026-01-02T00:00:00Z")
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Update", v3))
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Update", v2))
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Update", v3))
    stored = await Note.get(uri=note["id"])
    assert "v3" in stored.content_html and stored.text_version == 2


async def test_ssrf07_only_http_attachments(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    urls = [
        "file:///etc/passwd",
        "ftp://x/y.jpg",
        "data:image/png;base64,AAAA",
        remote.url("/m/1.jpg"),
    ]
    note = remote.note(
        bob, attachment=[{"type": "Document", "mediaType": "image/jpeg", "url": u} for u in urls]
    )
    await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note))
    assert [m.remote_url for m in await MediaAttachment.all()] == [remote.url("/m/1.jpg")]


async def test_res03_huge_addressing_is_capped(
    client, worker, runtime, remote: FakeInstance, alice
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    many = [remote.url(f"/users/u{i}") for i in range(5000)]
    tags = [{"type": "Mention", "href": u} for u in many]
    note = remote.note(bob, cc=many, tag=tags)
    requests_before = len(remote.requests)
    assert await _deliver(client, worker, remote, bob, remote.activity(bob, "Create", note)) == 202
    assert await Note.exists(uri=note["id"])
    assert len(remote.requests) == requests_before  # no per-entry fetch
    assert not await Job.filter(kind="inbox", state="dead").exists()
    assert json.dumps  # payload kept as received


async def test_ori13_url_on_another_host_is_only_a_display_link(
    client, worker, runtime, fediverse, alice
) -> None:
    # Given evil's note and evil's actor claiming, as `url`, the pages of victim's note and profile
    evil_host, victim_host = await fediverse(), await fediverse()
    evil, victim = evil_host.add_actor("evil"), victim_host.add_actor("victim")
    real = victim_host.note(victim, "<p>the real note</p>")
    victim_page = victim_host.url("/@victim")
    evil.extra["url"] = victim_page
    await warm(runtime, evil)
    forged = evil_host.note(evil, "<p>impostor</p>", url=real["id"])
    await _deliver(client, worker, evil_host, evil, evil_host.activity(evil, "Create", forged))
    stored = await Note.get(uri=forged["id"])
    assert (await stored.account).uri == evil.uri
    # When someone looks up the victim's URLs
    found_note = (await lookup(runtime, real["id"])).note
    found_account = (await lookup(runtime, victim_page)).account
    # Then they get the victim's own note and profile from the victim's server, not evil's copies
    assert found_note is not None and found_note.uri == real["id"]
    assert "the real note" in found_note.content_html
    assert found_account is not None and found_account.uri == victim.uri
    # And evil's note keeps its own identity (its id), the foreign `url` only shown as a link
    assert (await Note.get(uri=forged["id"])).account_id == stored.account_id  # type: ignore[attr-defined]
    assert found_note.account_id != stored.account_id  # type: ignore[attr-defined]
