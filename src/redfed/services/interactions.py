"""Likes (federated), collects (private bookmarks, never federated) and comments.

Counters move with F-expressions in the same transaction as the row, so concurrent likes
never lose an increment.
"""

from __future__ import annotations

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from redfed.activitypub import uris
from redfed.errors import NotFound
from redfed.ids import new_id
from redfed.models import Account, Collect, Like, Note, NotificationKind
from redfed.runtime import Runtime
from redfed.services import outbox
from redfed.services.feed.events import record_event
from redfed.services.feed.types import FeedEvent as FeedEventKind
from redfed.services.feed.types import FeedSettings
from redfed.services.notes import NoteDraft, create_local_note
from redfed.services.notifications import notify
from redfed.services.visibility import require_visible


async def _author(note: Note) -> Account:
    author: Account = await note.account
    return author


async def _record(account: Account, note: Note, kind: FeedEventKind) -> None:
    """An engagement signal for the interest feed (local accounts only): stored, and applied to
    the person's interests, the note's engagement and the co-engagement neighbours."""
    if account.is_local:
        # The admin's feed knobs (α, new-creator share) only matter when ranking, so the code
        # defaults are the right settings for recording.
        await record_event(account, kind, note, FeedSettings())


async def like_note(rt: Runtime, account: Account, note: Note) -> Like:
    """Like a visible note; liking twice is the same as once."""
    await require_visible(account, note)
    existing = await Like.get_or_none(account_id=account.id, note_id=note.id)
    if existing is not None:
        return existing
    async with in_transaction():
        like_id = new_id()
        like = await Like.create(
            id=like_id,
            account=account,
            note=note,
            uri=uris.like_uri(uris.actor_uri(rt.base_url, account.username), like_id),
        )
        await Note.filter(id=note.id).update(likes_count=F("likes_count") + 1)
        await notify(await _author(note), NotificationKind.LIKE, account, note)
        await _record(account, note, FeedEventKind.LIKE)
        await outbox.note_liked(like)
    return like


async def unlike_note(rt: Runtime, account: Account, note: Note) -> bool:
    """Remove a like; False when there was none."""
    like = await Like.get_or_none(account_id=account.id, note_id=note.id)
    if like is None:
        return False
    async with in_transaction():
        await outbox.note_unliked(like, note)  # before the row goes: the Undo embeds it
        await like.delete()
        await Note.filter(id=note.id, likes_count__gt=0).update(likes_count=F("likes_count") - 1)
    return True


async def collect_note(account: Account, note: Note) -> Collect:
    await require_visible(account, note)
    existing = await Collect.get_or_none(account_id=account.id, note_id=note.id)
    if existing is not None:
        return existing
    async with in_transaction():
        collect = await Collect.create(account=account, note=note)
        await Note.filter(id=note.id).update(collects_count=F("collects_count") + 1)
        await _record(account, note, FeedEventKind.COLLECT)
    return collect


async def uncollect_note(account: Account, note: Note) -> bool:
    async with in_transaction():
        deleted = await Collect.filter(account_id=account.id, note_id=note.id).delete()
        if deleted:
            await Note.filter(id=note.id, collects_count__gt=0).update(
                collects_count=F("collects_count") - 1
            )
    return bool(deleted)


async def comment_on_note(rt: Runtime, account: Account, parent: Note, text: str) -> Note:
    """A comment is a reply note; replies to comments share the thread's root."""
    comment = await create_local_note(rt, account, NoteDraft(text=text), in_reply_to=parent)
    await _record(account, parent, FeedEventKind.COMMENT)
    return comment


async def liked_note_ids(account: Account | None, note_ids: list[int]) -> set[int]:
    """Which of these notes the viewer liked: all a grid card's button needs (one statement)."""
    if account is None or not note_ids:
        return set()
    liked = await Like.filter(account_id=account.id, note_id__in=note_ids).values_list(
        "note_id", flat=True
    )
    return {int(i) for i in liked}  # type: ignore[call-overload]


async def viewer_state(account: Account | None, note_ids: list[int]) -> dict[str, set[int]]:
    """Which of these notes the viewer liked and collected (for button states)."""
    if account is None or not note_ids:
        return {"liked": set(), "collected": set()}
    collected = await Collect.filter(account_id=account.id, note_id__in=note_ids).values_list(
        "note_id", flat=True
    )
    return {
        "liked": await liked_note_ids(account, note_ids),
        "collected": {int(i) for i in collected},  # type: ignore[call-overload]
    }


async def get_note(note_id: int, viewer: Account | None) -> Note:
    """A note by id, or NotFound when missing or invisible (PRIV-07)."""
    note = await Note.get_or_none(id=note_id).prefetch_related("account")
    if note is None:
        raise NotFound()
    return await require_visible(viewer, note)
