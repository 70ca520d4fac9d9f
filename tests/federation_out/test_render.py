"""Renderers against literal expected JSON (issue 3 §2-3), and the audience rules both ways."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from redfed.activitypub import render
from redfed.activitypub.audience import audience_for, visibility_from_audience
from redfed.activitypub.vocab import CONTEXT, PUBLIC
from redfed.models import Account, MediaAttachment, Note, Visibility

BASE = "https://redfed.test"
ALICE = f"{BASE}/users/alice"
BOB = "https://remote.example/users/bob"
T0 = datetime(2024, 5, 1, 8, 30, 0, 123456, tzinfo=UTC)


def alice() -> Account:
    return Account(
        id=1,
        username="alice",
        domain=None,
        display_name="Alice 小红",
        summary_html="<p>Hi</p>",
        uri=ALICE,
        url=f"{BASE}/@alice",
        inbox_uri=f"{ALICE}/inbox",
        shared_inbox_uri=f"{BASE}/inbox",
        outbox_uri=f"{ALICE}/outbox",
        followers_uri=f"{ALICE}/followers",
        following_uri=f"{ALICE}/following",
        featured_uri=f"{ALICE}/collections/featured",
        public_key_id=f"{ALICE}#main-key",
        public_key_pem="PEM",
        locked=True,
        created_at=T0,
    )


def bob() -> Account:
    return Account(id=2, username="bob", domain="remote.example", uri=BOB)


def note(**kw: Any) -> Note:
    fields: dict[str, Any] = dict(
        id=10,
        uri=f"{ALICE}/notes/10",
        url=f"{BASE}/@alice/10",
        title="Tea <in> Hangzhou",
        content_html="<p>Longjing &amp; views</p>",
        language="zh",
        visibility=Visibility.PUBLIC,
        published_at=T0,
    )
    fields.update(kw)
    return Note(**fields)


def test_actor_literal() -> None:
    avatar = MediaAttachment(id=5, file_key="abc.webp", display_mime="image/webp")
    assert render.render_actor(alice(), base_url=BASE, avatar=avatar) == {
        "@context": CONTEXT,
        "id": ALICE,
        "type": "Person",
        "preferredUsername": "alice",
        "name": "Alice 小红",
        "summary": "<p>Hi</p>",
        "url": f"{BASE}/@alice",
        "inbox": f"{ALICE}/inbox",
        "outbox": f"{ALICE}/outbox",
        "followers": f"{ALICE}/followers",
        "following": f"{ALICE}/following",
        "featured": f"{ALICE}/collections/featured",
        "endpoints": {"sharedInbox": f"{BASE}/inbox"},
        "manuallyApprovesFollowers": True,
        "discoverable": True,
        "indexable": True,
        "published": "2024-05-01T08:30:00Z",
        "publicKey": {"id": f"{ALICE}#main-key", "owner": ALICE, "publicKeyPem": "PEM"},
        "icon": {"type": "Image", "mediaType": "image/webp", "url": f"{BASE}/media/abc.webp"},
    }


def test_public_note_literal_with_title_photo_tags_mentions() -> None:
    photo = MediaAttachment(
        id=7,
        position=0,
        description="A cup",
        file_key="k1.jpg",
        display_mime="image/jpeg",
        width=1080,
        height=1440,
        blurhash="LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
    )
    doc = render.render_note(
        note(), author=alice(), base_url=BASE, media=[photo], tags=["tea", "杭州"], mentions=[bob()]
    )
    content = "<p><strong>Tea &lt;in&gt; Hangzhou</strong></p><p>Longjing &amp; views</p>"
    assert doc == {
        "@context": CONTEXT,
        "id": f"{ALICE}/notes/10",
        "type": "Note",
        "name": "Tea <in> Hangzhou",
        "summary": None,
        "sensitive": False,
        "content": content,
        "inReplyTo": None,
        "published": "2024-05-01T08:30:00Z",
        "url": f"{BASE}/@alice/10",
        "attributedTo": ALICE,
        "to": [PUBLIC],
        "cc": [f"{ALICE}/followers", BOB],
        "contentMap": {"zh": content},
        "attachment": [
            {
                "type": "Image",
                "mediaType": "image/jpeg",
                "url": f"{BASE}/media/k1.jpg",
                "name": "A cup",
                "blurhash": "LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
                "width": 1080,
                "height": 1440,
            }
        ],
        "tag": [
            {"type": "Hashtag", "href": f"{BASE}/tags/tea", "name": "#tea"},
            {"type": "Hashtag", "href": f"{BASE}/tags/%E6%9D%AD%E5%B7%9E", "name": "#杭州"},
            {"type": "Mention", "href": BOB, "name": "@bob@remote.example"},
        ],
        "replies": f"{ALICE}/notes/10/replies",
    }


def test_comment_with_cw_edited_create_wraps_it() -> None:
    edited = datetime(2024, 5, 2, tzinfo=UTC)
    n = note(
        title="",
        spoiler_text="spoilers",
        language="",
        visibility=Visibility.UNLISTED,
        edited_at=edited,
    )
    doc = render.render_note(n, author=alice(), base_url=BASE, in_reply_to=f"{BOB}/statuses/1")
    assert doc["content"] == "<p>Longjing &amp; views</p>" and "name" not in doc
    assert (doc["summary"], doc["sensitive"]) == ("spoilers", True)
    assert doc["inReplyTo"] == f"{BOB}/statuses/1" and doc["updated"] == "2024-05-02T00:00:00Z"
    assert (doc["to"], doc["cc"]) == ([f"{ALICE}/followers"], [PUBLIC])
    assert "contentMap" not in doc
    create = render.render_create(doc)
    body = {k: v for k, v in doc.items() if k != "@context"}
    assert create == {
        "@context": CONTEXT,
        "id": f"{ALICE}/notes/10/activity",
        "type": "Create",
        "actor": ALICE,
        "published": "2024-05-01T08:30:00Z",
        "to": [f"{ALICE}/followers"],
        "cc": [PUBLIC],
        "object": body,
    }


def test_follow_accept_undo_like_block_delete_literals() -> None:
    follow = render.render_follow(f"{ALICE}#follows/3", actor=ALICE, target=BOB)
    assert follow == {
        "@context": CONTEXT,
        "id": f"{ALICE}#follows/3",
        "type": "Follow",
        "actor": ALICE,
        "object": BOB,
    }
    assert render.render_undo(follow) == {
        "@context": CONTEXT,
        "id": f"{ALICE}#follows/3/undo",
        "type": "Undo",
        "actor": ALICE,
        "object": {"id": f"{ALICE}#follows/3", "type": "Follow", "actor": ALICE, "object": BOB},
    }
    accept = render.render_accept(
        f"{ALICE}#accepts/follows/4", actor=ALICE, follow_id=f"{BOB}#f/1", follower=BOB
    )
    assert accept == {
        "@context": CONTEXT,
        "id": f"{ALICE}#accepts/follows/4",
        "type": "Accept",
        "actor": ALICE,
        "to": [BOB],
        "object": {"id": f"{BOB}#f/1", "type": "Follow", "actor": BOB, "object": ALICE},
    }
    assert render.render_reject("r", actor=ALICE, follow_id="f", follower=BOB)["type"] == "Reject"
    assert render.render_like("l", actor=ALICE, note_uri="n", note_author=BOB) == {
        "@context": CONTEXT,
        "id": "l",
        "type": "Like",
        "actor": ALICE,
        "object": "n",
        "to": [BOB],
    }
    assert render.render_block("b", actor=ALICE, target=BOB)["object"] == BOB
    delete = render.render_delete(
        f"{ALICE}/notes/10", actor=ALICE, audience=audience_for("followers", f"{ALICE}/followers")
    )
    assert delete == {
        "@context": CONTEXT,
        "id": f"{ALICE}/notes/10#delete",
        "type": "Delete",
        "actor": ALICE,
        "to": [f"{ALICE}/followers"],
        "cc": [],
        "object": {"id": f"{ALICE}/notes/10", "type": "Tombstone"},
    }


def test_collection_and_page_literals() -> None:
    assert render.render_collection("c", total=3, first="c?page=1") == {
        "@context": CONTEXT,
        "id": "c",
        "type": "OrderedCollection",
        "totalItems": 3,
        "first": "c?page=1",
    }
    assert render.render_collection_page(
        "c?page=1", part_of="c", items=["a"], next_page="c?page=2"
    ) == {
        "@context": CONTEXT,
        "id": "c?page=1",
        "type": "OrderedCollectionPage",
        "partOf": "c",
        "next": "c?page=2",
        "orderedItems": ["a"],
    }


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        ("public", [PUBLIC], ["F", BOB]),
        ("unlisted", ["F"], [PUBLIC, BOB]),
        ("followers", ["F"], [BOB]),
        ("direct", [BOB], []),
    ],
)
def test_audience_round_trip(visibility: str, to: list[str], cc: list[str]) -> None:
    audience = audience_for(visibility, "F", [BOB, BOB])
    assert (audience.to, audience.cc) == (to, cc)
    assert visibility_from_audience(audience.to, audience.cc, "F") == visibility


def test_visibility_from_compact_public() -> None:
    assert visibility_from_audience(["as:Public"], [], "F") == "public"
    assert visibility_from_audience([], ["Public"], "F") == "unlisted"
