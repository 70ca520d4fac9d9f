"""Delete of a note or of the actor itself. Deleted ids are remembered as Tombstones so a late
Create, Like or Announce cannot bring them back (IDEM-03)."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from redfed.activitypub.parse import ParsedActivity
from redfed.inbox.common import count_follow, note_by_uri, require, require_same_host
from redfed.models import Account, Follow, FollowState, Note, Tombstone


async def handle_delete(rt: object, activity: ParsedActivity, actor: Account) -> None:
    require(bool(activity.object_id), "Delete without an object id")
    if activity.object_id == actor.uri:
        await _delete_actor(actor)
        return
    require_same_host(activity, activity.object_id)
    async with in_transaction():
        await Tombstone.get_or_create(uri=activity.object_id)
        note = await note_by_uri(activity.object_id)
        if note is None:
            return  # remembered: the Create may still be on its way
        require(note.account_id == actor.id, "Delete of someone else's note")  # type: ignore[attr-defined]
        await Note.filter(id=note.id).delete()
        if note.in_reply_to_id is not None:  # type: ignore[attr-defined]
            await Note.filter(id=note.in_reply_to_id).update(comments_count=F("comments_count") - 1)  # type: ignore[attr-defined]
        await Account.filter(id=actor.id).update(notes_count=F("notes_count") - 1)


async def _delete_actor(actor: Account) -> None:
    async with in_transaction():
        for follow in await Follow.filter(follower=actor, state=FollowState.ACCEPTED):
            await count_follow(actor.id, follow.followee_id, -1)  # type: ignore[attr-defined]
        for follow in await Follow.filter(followee=actor, state=FollowState.ACCEPTED):
            await count_follow(follow.follower_id, actor.id, -1)  # type: ignore[attr-defined]
        await Follow.filter(follower=actor).delete()
        await Follow.filter(followee=actor).delete()
        uris = list(await Note.filter(account=actor).values_list("uri", flat=True))
        await Tombstone.bulk_create([Tombstone(uri=u) for u in uris], ignore_conflicts=True)
        await Note.filter(account=actor).delete()
        await Account.filter(id=actor.id).update(gone_at=datetime.now(UTC), notes_count=0)
