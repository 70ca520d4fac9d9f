"""Undo of a Follow, Like, Announce or Block — only by the actor who did it (ORI-12).

An Undo whose object we never saw is remembered as a Tombstone, so the original arriving
late is dropped (IDEM-04).
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from redfed.activitypub.normalize import first_type, id_of, same_host
from redfed.activitypub.parse import ParsedActivity
from redfed.inbox.common import (
    count_follow,
    local_account_by_uri,
    note_by_uri,
    require,
    undone_marker,
)
from redfed.models import Account, Block, Boost, Follow, FollowState, Like, Note, Tombstone


async def handle_undo(rt: object, activity: ParsedActivity, actor: Account) -> None:
    obj = activity.object
    if obj is not None:
        # An embedded activity must be the actor's own (ORI-12).
        require(id_of(obj.get("actor")) == actor.uri, "Undo of someone else's activity")
    kind = first_type(obj) if obj is not None else ""
    async with in_transaction():
        done = await _undo(kind, activity.object_id, obj, actor)
        # Remember an Undo of something not seen yet, if the id is plausibly the actor's own
        # (embedded with its actor checked above, or under the actor's URI: Mastodon, GoToSocial).
        owned = obj is not None or activity.object_id.startswith((actor.uri + "/", actor.uri + "#"))
        if not done and activity.object_id and owned and same_host(activity.object_id, actor.uri):
            await Tombstone.get_or_create(uri=undone_marker(actor.uri, activity.object_id))


async def _undo(kind: str, uri: str, obj: dict[str, Any] | None, actor: Account) -> bool:
    target = id_of(obj.get("object")) if obj is not None else None
    if kind in ("Follow", ""):
        if await _undo_follow(uri, target, actor):
            return True
    if kind in ("Like", "EmojiReact", ""):
        if await _undo_row(Like, uri, target, actor, "likes_count"):
            return True
    if kind in ("Announce", ""):
        if await _undo_row(Boost, uri, target, actor, "boosts_count"):
            return True
    if kind in ("Block", ""):
        block = await _find(Block, uri, actor)
        if block is None and target:
            local = await local_account_by_uri(target)
            block = await Block.get_or_none(account=actor, target=local) if local else None
        if block is not None:
            await Block.filter(id=block.id).delete()
            return True
    return False


async def _undo_follow(uri: str, target: str | None, actor: Account) -> bool:
    follow = await _find(Follow, uri, actor, field="follower")
    if follow is None and target:
        followee = await local_account_by_uri(target)
        follow = await Follow.get_or_none(follower=actor, followee=followee) if followee else None
    if follow is None:
        return False
    if await Follow.filter(id=follow.id).delete() and follow.state == FollowState.ACCEPTED:
        await count_follow(actor.id, follow.followee_id, -1)  # type: ignore[attr-defined]
    return True


async def _undo_row(
    model: type[Like] | type[Boost], uri: str, target: str | None, actor: Account, counter: str
) -> bool:
    row = await _find(model, uri, actor)
    if row is None and target:
        note = await note_by_uri(target)
        row = await model.get_or_none(account=actor, note=note) if note else None
    if row is None:
        return False
    if await model.filter(id=row.id).delete():
        await Note.filter(id=row.note_id).update(**{counter: F(counter) - 1})  # type: ignore[union-attr]
    return True


async def _find(model: Any, uri: str, actor: Account, *, field: str = "account") -> Any:
    if not uri:
        return None
    return await model.get_or_none(uri=uri, **{field: actor})
