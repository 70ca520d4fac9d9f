"""Like (and Misskey/Pleroma `EmojiReact`, counted as a like) of a note we store."""

from __future__ import annotations

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from redfed.activitypub.parse import ParsedActivity
from redfed.inbox.common import note_by_uri, notify, require, require_same_host, was_undone
from redfed.models import Account, Like, Note, NotificationKind, Visibility


async def handle_like(rt: object, activity: ParsedActivity, actor: Account) -> None:
    require_same_host(activity, activity.id)
    require(not await was_undone(actor, activity.id), "like undone before it arrived")
    note = await note_by_uri(activity.object_id)
    # A like of a note we do not store tells nobody here anything: no fetch (IDEM-07).
    require(note is not None, "like of an unknown note")
    assert note is not None
    require(
        note.visibility != Visibility.DIRECT or await _mentioned(note, actor),
        "like of a hidden note",
    )
    async with in_transaction():
        if await Like.exists(account=actor, note=note) or await Like.exists(uri=activity.id):
            return
        await Like.create(account=actor, note=note, uri=activity.id)
        await Note.filter(id=note.id).update(likes_count=F("likes_count") + 1)
        await notify(note.account_id, NotificationKind.LIKE, actor, note)  # type: ignore[attr-defined]


async def _mentioned(note: Note, actor: Account) -> bool:
    return await note.mentions.filter(account=actor).exists()
