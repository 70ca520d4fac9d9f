"""Our URI scheme in one place: actors, notes, activities, collections, tags and media.

Ids of activities are derived from the object they concern, so a retry or a re-render always
produces the same id (IDEM-08) and nobody needs a table of activity ids.
"""

from __future__ import annotations

from urllib.parse import quote

INSTANCE_ACTOR_USERNAME = "redfed.internal"  # a dot: no person can ever register this name


def actor_uri(base_url: str, username: str) -> str:
    return f"{base_url}/users/{username}"


def profile_url(base_url: str, username: str) -> str:
    return f"{base_url}/@{username}"


def key_id(actor: str) -> str:
    return f"{actor}#main-key"


def inbox_uri(actor: str) -> str:
    return f"{actor}/inbox"


def shared_inbox_uri(base_url: str) -> str:
    return f"{base_url}/inbox"


def outbox_uri(actor: str) -> str:
    return f"{actor}/outbox"


def followers_uri(actor: str) -> str:
    return f"{actor}/followers"


def following_uri(actor: str) -> str:
    return f"{actor}/following"


def featured_uri(actor: str) -> str:
    return f"{actor}/collections/featured"


def instance_actor_uri(base_url: str) -> str:
    return f"{base_url}/actor"


def note_uri(actor: str, note_id: int) -> str:
    return f"{actor}/notes/{note_id}"


def note_url(base_url: str, username: str, note_id: int) -> str:
    return f"{base_url}/@{username}/{note_id}"


def replies_uri(note: str) -> str:
    return f"{note}/replies"


def create_uri(note: str) -> str:
    return f"{note}/activity"


def update_uri(note: str, version: int) -> str:
    # One id per edit: peers deduplicate activities by id, so each edit needs its own.
    return f"{note}#updates/{version}"


def delete_uri(object_uri: str) -> str:
    return f"{object_uri}#delete"


def like_uri(actor: str, like_id: int) -> str:
    return f"{actor}#likes/{like_id}"


def follow_uri(actor: str, follow_id: int) -> str:
    return f"{actor}#follows/{follow_id}"


def block_uri(actor: str, block_id: int) -> str:
    return f"{actor}#blocks/{block_id}"


def accept_uri(actor: str, follow_id: int) -> str:
    return f"{actor}#accepts/follows/{follow_id}"


def reject_uri(actor: str, follow_id: int) -> str:
    return f"{actor}#rejects/follows/{follow_id}"


def undo_uri(activity: str) -> str:
    return f"{activity}/undo"


def profile_update_uri(actor: str, stamp: int) -> str:
    return f"{actor}#updates/{stamp}"


def tag_url(base_url: str, tag: str) -> str:
    return f"{base_url}/tags/{quote(tag, safe='')}"


def media_url(base_url: str, file_key: str) -> str:
    return f"{base_url}/media/{file_key}"


def page_uri(collection: str, page: int) -> str:
    return f"{collection}?page={page}"
