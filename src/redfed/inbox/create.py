"""Create of a Note (Article, Page and Question are stored as notes too).

The actor must be the note's author and the note must live on the actor's host (ORI-08);
a note from elsewhere is fetched from its own origin rather than trusted (ORI-02).
"""

from __future__ import annotations

from redfed.activitypub.normalize import id_of, same_host
from redfed.activitypub.parse import NOTE_TYPES, ParsedActivity, parse_note
from redfed.inbox.common import require
from redfed.models import Account
from redfed.runtime import Runtime
from redfed.services.remote_notes import (
    fetch_remote_note,
    touches_suspended_domain,
    upsert_remote_note,
)


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
    # PRIV-06: a note replying to or addressed to a suspended domain is dropped; so is a
    # Create whose own addressing names one.
    touches = await touches_suspended_domain(note, *activity.to, *activity.cc)
    require(not touches, "touches a suspended domain")
    await upsert_remote_note(rt, note, actor)
