"""Create of a Note (Article, Page and Question are stored as notes too).

The actor must be the note's author and the note must live on the actor's host (ORI-08);
a note from elsewhere is fetched from its own origin rather than trusted (ORI-02).
"""

from __future__ import annotations

from redfed.activitypub.normalize import host_of, id_of, same_host
from redfed.activitypub.parse import NOTE_TYPES, ParsedActivity, parse_note
from redfed.inbox.common import require
from redfed.models import Account
from redfed.runtime import Runtime
from redfed.services.moderation import first_suspended
from redfed.services.remote_notes import fetch_remote_note, upsert_remote_note


async def handle_create(rt: Runtime, activity: ParsedActivity, actor: Account) -> None:
    obj = activity.object
    require(bool(activity.object_id), "Create without an object id")
    if obj is None or not same_host(activity.object_id, actor.uri):
        # A bare id, or a copy of someone else's note: ask its origin (ORI-02).
        await fetch_remote_note(rt, activity.object_id)
        return
    require(activity.object_type in NOTE_TYPES, f"Create of {activity.object_type[:40]}")
    require(
        id_of(obj.get("attributedTo")) == actor.uri, "Create of a note attributed to another actor"
    )
    note = parse_note(obj)
    # PRIV-06: an object replying to or addressed to a suspended domain is dropped.
    elsewhere = [u for u in (note.in_reply_to, *note.to[:20], *note.cc[:20]) if u]
    hosts = [host_of(u) for u in elsewhere if not same_host(u, actor.uri)]
    require(await first_suspended(*hosts) is None, "touches a suspended domain")
    await upsert_remote_note(rt, note, actor)
