"""Signed GETs of non-public documents (authorized fetch) and PRIV-09.

Remote actors live on a FakeInstance over loopback with real keys; their GETs carry real
signatures (cavage, and one RFC 9421), and our app fetches their keys from that server.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from http_sfv.item import InnerList

from redfed.activitypub import uris
from redfed.app import create_app
from redfed.federation.keys import load_private_key
from redfed.federation.signatures import sign_request
from redfed.models import Account, Block, Follow, FollowState, Mention, Note, Visibility
from redfed.services.delivery import ensure_instance_actor
from redfed.services.moderation import block_domain
from tests.conftest import make_settings
from tests.support.fediverse import FakeActor, FakeInstance

from .conftest import make_local, warm

HOST = "redfed.test"
AS2 = {"Accept": "application/activity+json"}


async def local_note(author: Account, visibility: Visibility, **kw: Any) -> Note:
    note = Note(
        account=author,
        visibility=visibility,
        published_at=datetime.now(UTC),
        content_html="<p>for some eyes</p>",
        local=True,
        **kw,
    )
    note.uri = uris.note_uri(author.uri, note.id)
    note.url = uris.note_url(f"https://{HOST}", author.username, note.id)
    await note.save()
    return note


async def signed_get(client: Any, remote: FakeInstance, actor: FakeActor, path: str) -> Any:
    headers = remote.signed_headers(actor, "GET", f"https://{HOST}{path}", None)
    return await client.get(path, headers={**headers, **AS2})


async def follow(follower: Account, followee: Account, state: FollowState) -> None:
    await Follow.create(
        follower=follower, followee=followee, state=state, uri=f"{follower.uri}#f{followee.id}"
    )


async def test_followers_only_note_is_served_to_a_signed_follower_only(
    client: Any, runtime: Any, remote: FakeInstance, alice: Account
) -> None:
    bob, carol, dave = (remote.add_actor(n) for n in ("bob", "carol", "dave"))
    await warm(runtime, bob, carol, dave)
    await follow(await Account.get(uri=bob.uri), alice, FollowState.ACCEPTED)
    await follow(await Account.get(uri=dave.uri), alice, FollowState.PENDING)
    note = await local_note(alice, Visibility.FOLLOWERS)
    path = f"/users/alice/notes/{note.id}"

    response = await signed_get(client, remote, bob, path)
    assert response.status_code == 200
    doc = await response.get_json(force=True)
    assert doc["id"] == note.uri and doc["to"] == [alice.followers_uri]
    assert "Signature" in response.headers["Vary"] and "Accept" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "private"
    activity = await signed_get(client, remote, bob, f"{path}/activity")
    assert activity.status_code == 200
    assert (await activity.get_json(force=True))["object"]["id"] == note.uri
    assert (await signed_get(client, remote, bob, f"{path}/replies")).status_code == 200

    # Not for: an unsigned GET, another account of the follower's server (Mastodon decides by
    # the signing account), a pending follower. All 404 without the note's id in the body.
    unsigned = await client.get(path, headers=AS2)
    assert unsigned.status_code == 404
    assert "Signature" in unsigned.headers["Vary"]  # a shared cache keeps 404 and 200 apart
    assert "private" not in unsigned.headers.get("Cache-Control", "")
    for stranger in (carol, dave):
        for suffix in ("", "/activity", "/replies"):
            refused = await signed_get(client, remote, stranger, path + suffix)
            assert refused.status_code == 404, (stranger.username, suffix)
            assert note.uri not in await refused.get_data(as_text=True)


async def test_a_signature_that_does_not_verify_counts_as_none(
    client: Any, runtime: Any, remote: FakeInstance, alice: Account
) -> None:
    bob, mallory = remote.add_actor("bob"), remote.add_actor("mallory")
    await warm(runtime, bob, mallory)
    await follow(await Account.get(uri=bob.uri), alice, FollowState.ACCEPTED)
    private = await local_note(alice, Visibility.FOLLOWERS)
    public = await local_note(alice, Visibility.PUBLIC)
    for note, expected in ((private, 404), (public, 200)):
        path = f"/users/alice/notes/{note.id}"
        # Mallory signs with her own key but claims bob's key id.
        forged = remote.signed_headers(mallory, "GET", f"https://{HOST}{path}", None)
        forged["Signature"] = forged["Signature"].replace(mallory.key_id, bob.key_id)
        assert (await client.get(path, headers={**forged, **AS2})).status_code == expected
        # A valid signature made for another note does not open this one.
        other = remote.signed_headers(bob, "GET", f"https://{HOST}/users/alice/notes/1", None)
        assert (await client.get(path, headers={**other, **AS2})).status_code == expected
        # Nor does one outside the Date window.
        old = sign_request(
            "GET",
            f"https://{HOST}{path}",
            body=None,
            key_id=bob.key_id,
            private_key_pem=bob.private_pem,
            now=datetime.now(UTC) - timedelta(hours=13),
        )
        assert (await client.get(path, headers={**old, **AS2})).status_code == expected


async def test_direct_note_to_a_mentioned_signer_and_outbox_by_signer(
    client: Any, runtime: Any, remote: FakeInstance, alice: Account
) -> None:
    bob, carol = remote.add_actor("bob"), remote.add_actor("carol")
    await warm(runtime, bob, carol)
    bob_row, carol_row = await Account.get(uri=bob.uri), await Account.get(uri=carol.uri)
    await follow(carol_row, alice, FollowState.ACCEPTED)
    direct = await local_note(alice, Visibility.DIRECT)
    await Mention.create(note=direct, account=bob_row)
    private = await local_note(alice, Visibility.FOLLOWERS)
    public = await local_note(alice, Visibility.PUBLIC)
    path = f"/users/alice/notes/{direct.id}"
    assert (await signed_get(client, remote, bob, path)).status_code == 200
    assert (await signed_get(client, remote, carol, path)).status_code == 404  # a follower

    async def outbox_ids(actor: FakeActor | None) -> set[str]:
        page = "/users/alice/outbox?page=true"
        response = await (
            signed_get(client, remote, actor, page) if actor else client.get(page, headers=AS2)
        )
        assert response.status_code == 200
        return {i["object"]["id"] for i in (await response.get_json(force=True))["orderedItems"]}

    assert await outbox_ids(None) == {public.uri}
    assert await outbox_ids(bob) == {public.uri, direct.uri}
    assert await outbox_ids(carol) == {public.uri, private.uri}


async def test_rfc9421_signed_get_of_a_followers_only_note(
    client: Any, runtime: Any, remote: FakeInstance, alice: Account
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    await follow(await Account.get(uri=bob.uri), alice, FollowState.ACCEPTED)
    note = await local_note(alice, Visibility.FOLLOWERS)
    path = f"/users/alice/notes/{note.id}"
    params = InnerList(["@method", "@target-uri"])
    params.params["created"] = int(datetime.now(UTC).timestamp())
    params.params["keyid"] = bob.key_id
    params.params["alg"] = "rsa-v1_5-sha256"
    base = f'"@method": GET\n"@target-uri": https://{HOST}{path}\n"@signature-params": {params}'
    signature = load_private_key(bob.private_pem).sign(  # type: ignore[call-arg,union-attr]
        base.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    headers = {
        "Host": HOST,
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{base64.b64encode(signature).decode()}:",
        **AS2,
    }
    response = await client.get(path, headers=headers)
    assert response.status_code == 200
    assert "Signature-Input" in response.headers["Vary"]


async def test_priv09_signed_fetch_by_a_blocked_actor_or_domain_is_404(
    client: Any, runtime: Any, remote: FakeInstance, fediverse: Any, alice: Account
) -> None:
    """PRIV-09: what an anonymous reader gets, a signer alice blocks (or one on a suspended
    domain) does not: notes, comments, collections are 404; the actor document shrinks to the
    key (needed to verify alice's own signatures, the Block included)."""
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    bob_row = await Account.get(uri=bob.uri)
    await follow(bob_row, alice, FollowState.ACCEPTED)
    public = await local_note(alice, Visibility.PUBLIC)
    private = await local_note(alice, Visibility.FOLLOWERS)
    comment = await local_note(alice, Visibility.PUBLIC, in_reply_to_id=public.id)
    paths = [
        *(f"/users/alice/notes/{n.id}" for n in (public, private, comment)),
        f"/users/alice/notes/{public.id}/activity",
        f"/users/alice/notes/{public.id}/replies",
        "/users/alice/outbox",
        "/users/alice/outbox?page=true",
        "/users/alice/followers",
        "/users/alice/following",
        "/users/alice/collections/featured",
    ]
    for path in paths:  # before the block: all readable by bob
        assert (await signed_get(client, remote, bob, path)).status_code == 200, path
    # The Follow stays: the block alone must refuse (an inbox Block would also drop it).
    await Block.create(account=alice, target=bob_row, uri=f"{alice.uri}#blocks/1")
    for path in paths:
        refused = await signed_get(client, remote, bob, path)
        assert refused.status_code == 404, path
        assert public.uri not in await refused.get_data(as_text=True)
    actor = await signed_get(client, remote, bob, "/users/alice")
    assert actor.status_code == 200
    doc = await actor.get_json(force=True)
    assert doc["publicKey"]["id"] == alice.public_key_id
    assert "outbox" not in doc and "summary" not in doc and "followers" not in doc
    # Unsigned, the public documents stay public (that is what authorized_fetch is for).
    assert (await client.get(f"/users/alice/notes/{public.id}", headers=AS2)).status_code == 200

    # A suspended domain: every signed fetch from it is 404, and its key is never fetched.
    other = await fediverse()
    eve = other.add_actor("eve")
    await block_domain(other.domain, severity="suspend")
    for path in (f"/users/alice/notes/{public.id}", "/users/alice", "/users/alice/outbox"):
        assert (await signed_get(client, other, eve, path)).status_code == 404, path
    assert other.hits(f"/users/{eve.username}") == 0


async def test_authorized_fetch_mode_requires_signatures_except_keys_and_discovery(
    tmp_path: Path, migrated: str, db: str, remote: FakeInstance
) -> None:
    settings = make_settings(
        tmp_path / "data",
        migrated,
        federation={"allow_private_addresses": True, "authorized_fetch": True},
    )
    application = create_app(settings, start_worker=False, manage_database=False)
    async with application.test_app() as app:
        client = app.test_client()
        await ensure_instance_actor(settings)
        alice = await make_local(settings, "alice")
        note = await local_note(alice, Visibility.PUBLIC)
        stranger = remote.add_actor("stranger")
        path = f"/users/alice/notes/{note.id}"
        for unsigned in (path, "/users/alice/outbox", "/users/alice/followers"):
            assert (await client.get(unsigned, headers=AS2)).status_code == 401, unsigned
        assert (await signed_get(client, remote, stranger, path)).status_code == 200
        # A bad signature is refused outright in this mode.
        bad = remote.signed_headers(stranger, "GET", f"https://{HOST}/elsewhere", None)
        assert (await client.get(path, headers={**bad, **AS2})).status_code == 401
        # Keys, the instance actor and discovery stay open to unsigned requests.
        key_only = await (await client.get("/users/alice", headers=AS2)).get_json(force=True)
        assert key_only["publicKey"]["publicKeyPem"] == alice.public_key_pem
        assert "outbox" not in key_only
        # Nor does a signature we cannot check take the key away (it would deadlock).
        bad_actor = remote.signed_headers(stranger, "GET", f"https://{HOST}/elsewhere", None)
        bad_doc = await client.get("/users/alice", headers={**bad_actor, **AS2})
        assert bad_doc.status_code == 200
        assert "outbox" not in await bad_doc.get_json(force=True)
        full = await (await signed_get(client, remote, stranger, "/users/alice")).get_json(
            force=True
        )
        assert full["outbox"] == f"{alice.uri}/outbox"
        assert (await client.get("/actor", headers=AS2)).status_code == 200
        webfinger = await client.get(
            "/.well-known/webfinger", query_string={"resource": f"acct:alice@{HOST}"}
        )
        assert webfinger.status_code == 200
        assert (await client.get("/nodeinfo/2.1")).status_code == 200
        # Browsers still get the HTML page.
        browser = await client.get(path, headers={"Accept": "text/html"})
        assert browser.status_code == 303
