"""Discovery and AS2 GET endpoints: WebFinger, host-meta, NodeInfo, actor, collections, notes
(content negotiation, 410 Tombstone, non-public never served or listed: PRIV-02)."""

from __future__ import annotations

from typing import Any

from redfed.models import Account, Note, Tombstone, Visibility

from .conftest import BASE, Rows

AS2 = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}


async def get_json(client: Any, path: str, headers: dict[str, str] | None = None) -> Any:
    response = await client.get(path, headers=headers or AS2)
    assert response.status_code == 200, (path, response.status_code)
    return await response.get_json(force=True)


async def test_webfinger_by_acct_and_by_actor_url_with_cors(rows: Rows, client: Any) -> None:
    await rows.local("alice")
    for resource in ("acct:alice@redfed.test", "acct:Alice@redfed.test", f"{BASE}/users/alice"):
        response = await client.get("/.well-known/webfinger", query_string={"resource": resource})
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.content_type.startswith("application/jrd+json")
        assert await response.get_json(force=True) == {
            "subject": "acct:alice@redfed.test",
            "aliases": [f"{BASE}/users/alice", f"{BASE}/@alice"],
            "links": [
                {"rel": "self", "type": "application/activity+json", "href": f"{BASE}/users/alice"},
                {
                    "rel": "http://webfinger.net/rel/profile-page",
                    "type": "text/html",
                    "href": f"{BASE}/@alice",
                },
            ],
        }
    for missing in ("acct:alice@other.example", "acct:nobody@redfed.test", "https://x.example/u"):
        response = await client.get("/.well-known/webfinger", query_string={"resource": missing})
        assert response.status_code == 404
    assert (await client.get("/.well-known/webfinger")).status_code == 400


async def test_host_meta_and_nodeinfo(rows: Rows, client: Any) -> None:
    xml = await (await client.get("/.well-known/host-meta")).get_data(as_text=True)
    assert f'template="{BASE}/.well-known/webfinger?resource={{uri}}"' in xml
    meta = await get_json(client, "/.well-known/host-meta.json")
    assert meta["links"][0]["rel"] == "lrdd"
    index = await get_json(client, "/.well-known/nodeinfo")
    assert [link["href"] for link in index["links"]] == [
        f"{BASE}/nodeinfo/2.0",
        f"{BASE}/nodeinfo/2.1",
    ]
    for version in ("2.0", "2.1"):
        info = await get_json(client, f"/nodeinfo/{version}")
        assert info["version"] == version and info["protocols"] == ["activitypub"]
        assert info["software"]["name"] == "redfed" and "usage" in info


async def test_actor_as2_and_browser_redirect(rows: Rows, client: Any, keypair) -> None:  # type: ignore[no-untyped-def]
    await rows.local("alice", locked=True)
    for headers in (AS2, LD):
        doc = await get_json(client, "/users/alice", headers)
        assert doc["id"] == f"{BASE}/users/alice" and doc["type"] == "Person"
        assert doc["publicKey"]["publicKeyPem"] == keypair[1]
        assert doc["manuallyApprovesFollowers"] is True
    response = await client.get("/users/alice", headers={"Accept": "text/html"})
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/@alice"
    assert (await client.get("/users/nobody", headers=AS2)).status_code == 404


async def test_instance_actor_is_an_application_created_once(client: Any) -> None:
    first = await get_json(client, "/actor")
    second = await get_json(client, "/actor")
    assert first == second and first["type"] == "Application" and first["id"] == f"{BASE}/actor"
    assert "BEGIN PUBLIC KEY" in first["publicKey"]["publicKeyPem"]
    assert await Account.filter(actor_type="Application").count() == 1
    finger = await get_json(client, "/.well-known/webfinger?resource=acct:redfed.test@redfed.test")
    assert finger["links"][0]["href"] == f"{BASE}/actor"


async def test_outbox_lists_only_public_and_unlisted_notes(rows: Rows, client: Any) -> None:
    # Given notes of every visibility (PRIV-02)
    alice = await rows.local("alice")
    notes = {v: await rows.note(alice, v, title=str(v)) for v in Visibility}
    # When the outbox is read without a signature
    outbox = await get_json(client, "/users/alice/outbox")
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 2
    page = await get_json(client, outbox["first"].removeprefix(BASE))
    # Then only the public and unlisted notes are there, as Creates
    listed = {item["object"]["id"] for item in page["orderedItems"]}
    assert listed == {notes[Visibility.PUBLIC].uri, notes[Visibility.UNLISTED].uri}
    assert all(item["type"] == "Create" for item in page["orderedItems"])


async def test_followers_and_following_collections_page(rows: Rows, client: Any) -> None:
    alice = await rows.local("alice")
    bob, carol = await rows.local("bob"), await rows.local("carol")
    await rows.follow(bob, alice)
    await rows.follow(carol, alice, accepted=False)
    await rows.follow(alice, carol)
    followers = await get_json(client, "/users/alice/followers")
    assert followers["totalItems"] == 1
    page = await get_json(client, "/users/alice/followers?page=true")
    assert page["orderedItems"] == [bob.uri] and page["partOf"] == f"{BASE}/users/alice/followers"
    following = await get_json(client, "/users/alice/following?page=true")
    assert following["orderedItems"] == [carol.uri]
    featured = await get_json(client, "/users/alice/collections/featured")
    assert featured["totalItems"] == 0


async def test_note_negotiation_private_404_and_deleted_410(rows: Rows, client: Any) -> None:
    alice = await rows.local("alice")
    public = await rows.note(alice, title="Hi")
    doc = await get_json(client, f"/users/alice/notes/{public.id}")
    assert doc["id"] == public.uri and doc["name"] == "Hi"
    assert doc["content"].startswith("<p><strong>Hi</strong></p>")
    browser = await client.get(f"/users/alice/notes/{public.id}", headers={"Accept": "text/html"})
    assert browser.status_code == 303 and browser.headers["Location"] == public.url
    for visibility in (Visibility.FOLLOWERS, Visibility.DIRECT):
        hidden = await rows.note(alice, visibility)
        response = await client.get(f"/users/alice/notes/{hidden.id}", headers=AS2)
        assert response.status_code == 404
        assert hidden.uri not in await response.get_data(as_text=True)
    # A deleted note answers 410 with a Tombstone
    uri = public.uri
    await Note.filter(id=public.id).delete()
    await Tombstone.create(uri=uri)
    response = await client.get(f"/users/alice/notes/{public.id}", headers=AS2)
    assert response.status_code == 410
    assert (await response.get_json(force=True))["type"] == "Tombstone"
