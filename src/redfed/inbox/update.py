"""Update of a Note (by its stored owner only, ORI-07) or of the actor's own profile (ORI-01).

A key in an Update is never taken from the activity: if it differs, the actor document is
fetched from its origin and the key read there (SIG-18).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from redfed.activitypub.normalize import id_of
from redfed.activitypub.parse import NOTE_TYPES, ParsedActivity, parse_actor, parse_note
from redfed.activitypub.vocab import ACTOR_TYPES
from redfed.inbox.common import note_by_uri, require
from redfed.models import Account, Note, NoteEdit
from redfed.runtime import Runtime
from redfed.services.remote_accounts import fetch_remote_actor, upsert_remote_actor


async def handle_update(rt: Runtime, activity: ParsedActivity, actor: Account) -> None:
    obj = activity.object
    require(obj is not None, "Update without an embedded object")
    assert obj is not None
    if activity.object_type in ACTOR_TYPES:
        await _update_actor(rt, activity, actor)
    elif activity.object_type in NOTE_TYPES:
        await _update_note(activity, actor)


async def _update_actor(rt: Runtime, activity: ParsedActivity, actor: Account) -> None:
    require(activity.object_id == actor.uri, "Update of another actor's profile")
    assert activity.object is not None
    parsed = parse_actor(activity.object)
    if (parsed.key_id, parsed.public_key_pem.strip()) != (
        actor.public_key_id,
        actor.public_key_pem.strip(),
    ):
        await fetch_remote_actor(rt, actor.uri)  # the key as its origin publishes it
        return
    await upsert_remote_actor(parsed, keep_key=True)


async def _update_note(activity: ParsedActivity, actor: Account) -> None:
    assert activity.object is not None
    note = await note_by_uri(activity.object_id)
    require(note is not None, "Update of an unknown note")
    assert note is not None
    require(note.account_id == actor.id, "Update of a note by someone else")  # type: ignore[attr-defined]
    require(id_of(activity.object.get("attributedTo")) == actor.uri, "Update changes the author")
    parsed = parse_note(activity.object)
    # Only an earlier *edit* can make this Update stale (IDEM-05). Comparing with the publish
    # time would drop an edit made within the post's own second: Mastodon renders `updated`
    # in whole seconds. An exact replay is caught by the content check below.
    stored_edit = note.edited_at
    if parsed.updated is not None and stored_edit is not None and parsed.updated < stored_edit:
        return
    if (parsed.content_html, parsed.title, parsed.summary) == (
        note.content_html,
        note.title,
        note.spoiler_text,
    ):
        return
    async with in_transaction():
        await NoteEdit.create(
            note=note,
            title=note.title,
            content_html=note.content_html,
            spoiler_text=note.spoiler_text,
        )
        # Visibility and mentions stay as first received: an edit cannot widen them (PRIV-03).
        await Note.filter(id=note.id).update(
            title=parsed.title,
            content_html=parsed.content_html,
            spoiler_text=parsed.summary,
            sensitive=parsed.sensitive or bool(parsed.summary),
            language=parsed.language or note.language,
            edited_at=parsed.updated or datetime.now(UTC),
            text_version=F("text_version") + 1,
        )
