"""AS2 in: incoming actor, note and activity documents -> frozen dataclasses.

Everything is read defensively: caps on sizes and counts (RES-03/04), content sanitised,
attachment URLs http(s) only (SSRF-07). Authority checks are the inbox handlers' job.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redfed.activitypub.normalize import (
    InvalidActivity,
    as_list,
    first_map_entry,
    first_type,
    id_of,
    ids_of,
    text,
    unique,
)
from redfed.activitypub.vocab import ACTOR_TYPES
from redfed.content.hashtags import normalize_tags
from redfed.content.sanitize import sanitize_html

MAX_ADDRESSES = 200  # to/cc entries kept (RES-03)
MAX_MENTIONS = 50
MAX_TAGS = 30
MAX_ATTACHMENTS = 20
MAX_CONTENT = 100_000
MAX_NAME = 200
MAX_SUMMARY = 500
MAX_DESCRIPTION = 1500
NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question"})


@dataclass(frozen=True)
class ParsedActor:
    uri: str
    type: str
    username: str
    display_name: str
    summary_html: str
    url: str
    inbox: str
    shared_inbox: str
    outbox: str
    followers: str
    following: str
    featured: str
    key_id: str
    public_key_pem: str
    key_owner: str
    locked: bool
    discoverable: bool
    indexable: bool
    avatar_url: str
    header_url: str
    moved_to: str


@dataclass(frozen=True)
class ParsedAttachment:
    url: str
    media_type: str
    description: str
    width: int
    height: int
    blurhash: str


@dataclass(frozen=True)
class ParsedNote:
    uri: str
    type: str
    url: str
    attributed_to: str
    title: str
    content_html: str
    summary: str
    sensitive: bool
    language: str
    published: datetime | None
    updated: datetime | None
    in_reply_to: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    attachments: tuple[ParsedAttachment, ...]
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]


@dataclass(frozen=True)
class ParsedActivity:
    id: str
    type: str
    actor: str
    object_id: str  # "" when the object has no usable id
    object: dict[str, Any] | None  # the embedded object, when one was sent
    object_type: str
    target: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    raw: dict[str, Any]


def parse_activity(doc: dict[str, Any]) -> ParsedActivity:
    activity_id, actor = id_of(doc.get("id")), id_of(doc.get("actor"))
    if activity_id is None or actor is None:
        raise InvalidActivity(detail="activity without id or actor")
    obj = doc.get("object")
    if isinstance(obj, list) and len(obj) == 1:
        obj = obj[0]  # some JSON-LD tools wrap a single object in an array
    embedded = obj if isinstance(obj, dict) else None
    return ParsedActivity(
        id=activity_id,
        type=first_type(doc),
        actor=actor,
        object_id=id_of(obj) or "",
        object=embedded,
        object_type=first_type(embedded),
        target=id_of(doc.get("target")) or "",
        to=tuple(ids_of(doc.get("to"), limit=MAX_ADDRESSES)),
        cc=tuple(ids_of(doc.get("cc"), limit=MAX_ADDRESSES)),
        raw=doc,
    )


def parse_actor(doc: dict[str, Any]) -> ParsedActor:
    uri = id_of(doc.get("id"))
    kind = first_type(doc)
    inbox = id_of(doc.get("inbox"))
    if uri is None or kind not in ACTOR_TYPES or inbox is None:
        raise InvalidActivity(detail="not an actor document")
    key = _main_key(doc.get("publicKey"), uri)
    raw_endpoints = doc.get("endpoints")
    endpoints: dict[str, Any] = raw_endpoints if isinstance(raw_endpoints, dict) else {}
    username = (
        text(doc.get("preferredUsername"), limit=64) or uri.rstrip("/").rsplit("/", 1)[-1][:64]
    )
    return ParsedActor(
        uri=uri,
        type=kind,
        username=username,
        display_name=text(doc.get("name"), limit=MAX_NAME),
        summary_html=sanitize_html(text(doc.get("summary"), limit=MAX_CONTENT // 10)),
        url=_link(doc.get("url")),
        inbox=inbox,
        shared_inbox=id_of(endpoints.get("sharedInbox")) or "",
        outbox=id_of(doc.get("outbox")) or "",
        followers=id_of(doc.get("followers")) or "",
        following=id_of(doc.get("following")) or "",
        featured=id_of(doc.get("featured")) or "",
        key_id=key[0],
        public_key_pem=key[1],
        key_owner=key[2],
        locked=doc.get("manuallyApprovesFollowers") is True,
        discoverable=doc.get("discoverable") is not False,
        indexable=doc.get("indexable") is True,
        avatar_url=_link(doc.get("icon")),
        header_url=_link(doc.get("image")),
        moved_to=id_of(doc.get("movedTo")) or "",
    )


def _main_key(value: Any, actor_uri: str) -> tuple[str, str, str]:
    """(key id, PEM, owner) of the actor's first RSA/Ed25519 key; owner defaults to the actor."""
    for key in as_list(value):
        if isinstance(key, dict):
            key_id, pem = id_of(key.get("id")), key.get("publicKeyPem")
            if key_id and isinstance(pem, str) and len(pem) < 16_384:
                return key_id, pem, id_of(key.get("owner")) or actor_uri
    return "", "", ""


def parse_key_document(doc: dict[str, Any]) -> tuple[str, str, str]:
    """A bare key document (GoToSocial serves `…/main-key` as one): (id, PEM, owner)."""
    key_id, pem, owner = id_of(doc.get("id")), doc.get("publicKeyPem"), id_of(doc.get("owner"))
    if not key_id or not isinstance(pem, str) or not owner:
        raise InvalidActivity(detail="not a key document")
    return key_id, pem, owner


def parse_note(doc: dict[str, Any]) -> ParsedNote:
    uri, author = id_of(doc.get("id")), id_of(doc.get("attributedTo"))
    kind = first_type(doc)
    if uri is None or author is None or kind not in NOTE_TYPES:
        raise InvalidActivity(detail="not a note")
    language, mapped = first_map_entry(doc.get("contentMap"), limit=MAX_CONTENT)
    content = text(doc.get("content"), limit=MAX_CONTENT) or mapped
    tags = [
        t for t in as_list(doc.get("tag"))[: MAX_TAGS + MAX_MENTIONS * 4] if isinstance(t, dict)
    ]
    title = _title(doc, kind)
    return ParsedNote(
        uri=uri,
        type=kind,
        url=_link(doc.get("url")),
        attributed_to=author,
        title=title,
        content_html=_without_title_lead(sanitize_html(content), title),
        summary=text(doc.get("summary"), limit=MAX_SUMMARY),
        sensitive=doc.get("sensitive") is True,
        language=language,
        published=parse_time(doc.get("published")),
        updated=parse_time(doc.get("updated")),
        in_reply_to=id_of(doc.get("inReplyTo")) or "",
        to=tuple(ids_of(doc.get("to"), limit=MAX_ADDRESSES)),
        cc=tuple(ids_of(doc.get("cc"), limit=MAX_ADDRESSES)),
        attachments=tuple(_attachments(doc.get("attachment"))),
        hashtags=tuple(normalize_tags(_tag_names(tags), limit=MAX_TAGS)),
        mentions=tuple(unique(_mentions(tags))[:MAX_MENTIONS]),
    )


def _without_title_lead(content_html: str, title: str) -> str:
    """Drop a leading `<p><strong>title</strong></p>`: redfed (and servers like it) repeat the
    title there for Mastodon, which ignores `name`; we show `name` as the title already."""
    if not title:
        return content_html
    lead = f"<p><strong>{html.escape(title, quote=False)}</strong></p>"
    return content_html[len(lead) :].lstrip() if content_html.startswith(lead) else content_html


def _title(doc: dict[str, Any], kind: str) -> str:
    # Mastodon sets `name` only on Question options' parent; Article/Page titles live in `name`.
    _lang, mapped = first_map_entry(doc.get("nameMap"), limit=MAX_NAME)
    return text(doc.get("name"), limit=MAX_NAME) or mapped


def _tag_names(tags: list[dict[str, Any]]) -> list[str]:
    return [
        t["name"].lstrip("#")
        for t in tags
        if first_type(t) == "Hashtag" and isinstance(t.get("name"), str)
    ]


def _mentions(tags: list[dict[str, Any]]) -> list[str]:
    return [href for t in tags if first_type(t) == "Mention" and (href := id_of(t.get("href")))]


def _attachments(value: Any) -> list[ParsedAttachment]:
    found: list[ParsedAttachment] = []
    for item in as_list(value)[:MAX_ATTACHMENTS]:
        if not isinstance(item, dict):
            continue
        url = _link(item.get("url"))
        if not url:
            continue  # file:, ftp:, data: and friends are ignored (SSRF-07)
        found.append(
            ParsedAttachment(
                url=url,
                media_type=text(item.get("mediaType"), limit=64),
                description=text(item.get("name"), limit=MAX_DESCRIPTION),
                width=_int(item.get("width")),
                height=_int(item.get("height")),
                blurhash=text(item.get("blurhash"), limit=64),
            )
        )
    return found


def _link(value: Any) -> str:
    """An http(s) URL from a string, a Link/Image object (`href`/`url`) or a list of them."""
    for item in as_list(value)[:8]:
        candidate = item if isinstance(item, str) else None
        if isinstance(item, dict):
            inner = item.get("href") or item.get("url")
            candidate = inner if isinstance(inner, str) else _link(inner) or None
        if candidate and candidate.startswith(("https://", "http://")) and len(candidate) <= 1024:
            return candidate
    return ""


def _int(value: Any) -> int:
    return (
        value
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**6
        else 0
    )


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
