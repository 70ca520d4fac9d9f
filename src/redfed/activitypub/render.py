"""Models -> AS2 documents (outbound). Pure functions: everything they need is passed in.

Shapes follow what Mastodon emits, because Mastodon's parser is the strictest common peer;
each rule that exists for one peer's quirk says so where it is applied.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from redfed.activitypub import uris
from redfed.activitypub.audience import Audience, audience_for
from redfed.activitypub.vocab import AS_NS, CONTEXT, PUBLIC
from redfed.models import Account, MediaAttachment, Note

Doc = dict[str, Any]


def iso(moment: datetime) -> str:
    """`2024-05-01T08:30:00Z`: second precision, UTC, as every peer parses."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def with_context(doc: Doc) -> Doc:
    return {"@context": CONTEXT, **doc}


def instance_host(base_url: str) -> str:
    return urlsplit(base_url).netloc


# ------------------------------------------------------------------ actors


def _image(media: MediaAttachment | None, remote_url: str, base_url: str) -> Doc | None:
    if media is not None and media.file_key:
        url = uris.media_url(base_url, media.file_key)
        return {"type": "Image", "mediaType": media.display_mime, "url": url}
    if remote_url:
        return {"type": "Image", "url": remote_url}
    return None


def render_actor(
    account: Account,
    *,
    base_url: str,
    avatar: MediaAttachment | None = None,
    header: MediaAttachment | None = None,
) -> Doc:
    """A local account as a Person (or its own `actor_type`)."""
    actor = account.uri
    doc: Doc = {
        "id": actor,
        "type": account.actor_type,
        "preferredUsername": account.username,
        "name": account.display_name or account.username,
        "summary": account.summary_html,
        "url": account.url or uris.profile_url(base_url, account.username),
        "inbox": account.inbox_uri or uris.inbox_uri(actor),
        "outbox": account.outbox_uri or uris.outbox_uri(actor),
        "followers": account.followers_uri or uris.followers_uri(actor),
        "following": account.following_uri or uris.following_uri(actor),
        "featured": account.featured_uri or uris.featured_uri(actor),
        "endpoints": {"sharedInbox": account.shared_inbox_uri or uris.shared_inbox_uri(base_url)},
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "published": iso(account.created_at),
        "publicKey": {
            "id": account.public_key_id or uris.key_id(actor),
            "owner": actor,
            "publicKeyPem": account.public_key_pem,
        },
    }
    for key, image in (
        ("icon", _image(avatar, account.avatar_remote_url, base_url)),
        ("image", _image(header, account.header_remote_url, base_url)),
    ):
        if image is not None:
            doc[key] = image
    return with_context(doc)


def render_instance_actor(account: Account, *, base_url: str) -> Doc:
    """The instance actor: an Application that signs our fetches; it never posts."""
    actor = account.uri
    return with_context(
        {
            "id": actor,
            "type": "Application",
            "preferredUsername": account.username,
            "name": account.display_name or instance_host(base_url),
            "url": f"{base_url}/about",
            "inbox": uris.inbox_uri(actor),
            "outbox": uris.outbox_uri(actor),
            "endpoints": {"sharedInbox": uris.shared_inbox_uri(base_url)},
            "manuallyApprovesFollowers": True,
            "discoverable": False,
            "indexable": False,
            "publicKey": {
                "id": uris.key_id(actor),
                "owner": actor,
                "publicKeyPem": account.public_key_pem,
            },
        }
    )


# ------------------------------------------------------------------ notes


def mention_name(account: Account, base_url: str) -> str:
    return f"@{account.username}@{account.domain or instance_host(base_url)}"


def note_audience(note: Note, author: Account, mentions: Sequence[Account]) -> Audience:
    followers = author.followers_uri or uris.followers_uri(author.uri)
    return audience_for(str(note.visibility), followers, [m.uri for m in mentions])


def _attachment(media: MediaAttachment, base_url: str) -> Doc:
    mime = media.display_mime or media.remote_mime
    doc: Doc = {
        "type": "Image" if mime.startswith("image/") else "Document",
        "mediaType": mime,
        "url": uris.media_url(base_url, media.file_key) if media.file_key else media.remote_url,
        "name": media.description or None,
    }
    if media.blurhash:
        doc["blurhash"] = media.blurhash
    if media.width and media.height:
        doc["width"], doc["height"] = media.width, media.height
    return doc


def note_content(note: Note) -> str:
    """The HTML body; the title leads as a bold paragraph because Mastodon shows `content`
    and ignores `name` whenever content is present."""
    if not note.title:
        return note.content_html
    return f"<p><strong>{html.escape(note.title, quote=False)}</strong></p>{note.content_html}"


def render_note(
    note: Note,
    *,
    author: Account,
    base_url: str,
    media: Sequence[MediaAttachment] = (),
    tags: Sequence[str] = (),
    mentions: Sequence[Account] = (),
    in_reply_to: str | None = None,
    context: bool = True,
) -> Doc:
    """A note as an AS2 Note; `tags` are normalised tag names, `mentions` the mentioned accounts."""
    audience = note_audience(note, author, mentions)
    content = note_content(note)
    doc: Doc = {"id": note.uri, "type": "Note"}
    if note.title:
        doc["name"] = note.title
    doc |= {
        "summary": note.spoiler_text or None,
        "sensitive": note.sensitive or bool(note.spoiler_text),
        "content": content,
        "inReplyTo": in_reply_to or note.in_reply_to_uri or None,
        "published": iso(note.published_at),
        "url": note.url,
        "attributedTo": author.uri,
        "to": audience.to,
        "cc": audience.cc,
    }
    if note.language:
        doc["contentMap"] = {note.language: content}
    if note.edited_at is not None:
        doc["updated"] = iso(note.edited_at)
    doc["attachment"] = [_attachment(m, base_url) for m in sorted(media, key=lambda m: m.position)]
    doc["tag"] = [
        {"type": "Hashtag", "href": uris.tag_url(base_url, t), "name": f"#{t}"} for t in tags
    ] + [{"type": "Mention", "href": m.uri, "name": mention_name(m, base_url)} for m in mentions]
    doc["replies"] = uris.replies_uri(note.uri)
    return with_context(doc) if context else doc


def _strip(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if k != "@context"}


def render_create(note_doc: Doc) -> Doc:
    """Create wrapping a rendered note; addressed exactly as the note."""
    note = _strip(note_doc)
    return with_context(
        {
            "id": uris.create_uri(note["id"]),
            "type": "Create",
            "actor": note["attributedTo"],
            "published": note["published"],
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        }
    )


def render_update(object_doc: Doc, *, actor: str, stamp: int) -> Doc:
    """Update of a note (edit) or of an actor (profile); `stamp` makes each update's id unique."""
    obj = _strip(object_doc)
    to, cc = obj.get("to", [PUBLIC]), obj.get("cc", [])
    if obj["id"] == actor:  # a profile update goes to everyone who may hold the actor
        to, cc = [PUBLIC], [obj.get("followers", uris.followers_uri(actor))]
    return with_context(
        {
            "id": f"{obj['id']}#updates/{stamp}",
            "type": "Update",
            "actor": actor,
            "to": to,
            "cc": cc,
            "object": obj,
        }
    )


def render_delete(object_uri: str, *, actor: str, audience: Audience | None = None) -> Doc:
    """Delete of a note (a Tombstone, addressed as the note was) or of the actor itself."""
    obj: Doc | str = {"id": object_uri, "type": "Tombstone"} if object_uri != actor else actor
    to, cc = (audience.to, audience.cc) if audience is not None else ([PUBLIC], [])
    return with_context(
        {
            "id": uris.delete_uri(object_uri),
            "type": "Delete",
            "actor": actor,
            "to": to,
            "cc": cc,
            "object": obj,
        }
    )


# ------------------------------------------------------------------ interactions


def render_like(like_id: str, *, actor: str, note_uri: str, note_author: str) -> Doc:
    return with_context(
        {"id": like_id, "type": "Like", "actor": actor, "object": note_uri, "to": [note_author]}
    )


def render_follow(follow_id: str, *, actor: str, target: str) -> Doc:
    return with_context({"id": follow_id, "type": "Follow", "actor": actor, "object": target})


def render_block(block_id: str, *, actor: str, target: str) -> Doc:
    return with_context({"id": block_id, "type": "Block", "actor": actor, "object": target})


def render_undo(activity: Doc, *, to: Sequence[str] = ()) -> Doc:
    """Undo embedding the whole original activity: Mastodon looks the original up by id but
    Misskey and Pleroma need the embedded type and object."""
    inner = _strip(activity)
    doc: Doc = {
        "id": uris.undo_uri(inner["id"]),
        "type": "Undo",
        "actor": inner["actor"],
        "object": inner,
    }
    if to:
        doc["to"] = list(to)
    return with_context(doc)


def _answer(kind: str, answer_id: str, *, actor: str, follow_id: str, follower: str) -> Doc:
    follow = {"id": follow_id, "type": "Follow", "actor": follower, "object": actor}
    return with_context(
        {"id": answer_id, "type": kind, "actor": actor, "to": [follower], "object": follow}
    )


def render_accept(accept_id: str, *, actor: str, follow_id: str, follower: str) -> Doc:
    return _answer("Accept", accept_id, actor=actor, follow_id=follow_id, follower=follower)


def render_reject(reject_id: str, *, actor: str, follow_id: str, follower: str) -> Doc:
    return _answer("Reject", reject_id, actor=actor, follow_id=follow_id, follower=follower)


# ------------------------------------------------------------------ collections


def render_collection(
    collection_id: str, *, total: int, first: str | None, last: str | None = None
) -> Doc:
    """A paged OrderedCollection: the total and a link to the first page."""
    doc: Doc = {"id": collection_id, "type": "OrderedCollection", "totalItems": total}
    if first is not None:
        doc["first"] = first
    if last is not None:
        doc["last"] = last
    return with_context(doc)


def render_collection_page(
    page_id: str,
    *,
    part_of: str,
    items: Sequence[Doc | str],
    next_page: str | None = None,
    prev_page: str | None = None,
    total: int | None = None,
) -> Doc:
    doc: Doc = {"id": page_id, "type": "OrderedCollectionPage", "partOf": part_of}
    if total is not None:
        doc["totalItems"] = total
    if next_page is not None:
        doc["next"] = next_page
    if prev_page is not None:
        doc["prev"] = prev_page
    doc["orderedItems"] = [_strip(i) if isinstance(i, dict) else i for i in items]
    return with_context(doc)


__all__ = [
    "AS_NS",
    "Doc",
    "iso",
    "note_audience",
    "note_content",
    "render_accept",
    "render_actor",
    "render_block",
    "render_collection",
    "render_collection_page",
    "render_create",
    "render_delete",
    "render_follow",
    "render_instance_actor",
    "render_like",
    "render_note",
    "render_reject",
    "render_undo",
    "render_update",
]
