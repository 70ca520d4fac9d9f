"""Reject{Follow}: a remote account refused (or removed) one of our follows."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from redfed.activitypub.parse import ParsedActivity
from redfed.inbox.accept import find_follow_of
from redfed.inbox.common import count_follow, require
from redfed.models import Account, Follow, FollowState


async def handle_reject(rt: object, activity: ParsedActivity, actor: Account) -> None:
    async with in_transaction():
        follow = await find_follow_of(activity, actor)
        require(follow is not None, "Reject for no follow of this actor")
        assert follow is not None
        deleted = await Follow.filter(id=follow.id).delete()
        if deleted and follow.state == FollowState.ACCEPTED:
            await count_follow(follow.follower_id, actor.id, -1)  # type: ignore[attr-defined]
