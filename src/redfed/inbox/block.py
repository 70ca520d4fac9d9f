"""Block: a remote account blocks a local one; follows between them end."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from redfed.activitypub.parse import ParsedActivity
from redfed.inbox.common import count_follow, local_account_by_uri, require, require_same_host
from redfed.models import Account, Block, Follow, FollowState


async def handle_block(rt: object, activity: ParsedActivity, actor: Account) -> None:
    require_same_host(activity, activity.id)
    target = await local_account_by_uri(activity.object_id)
    require(target is not None, "block of an unknown local account")
    assert target is not None
    async with in_transaction():
        if not await Block.exists(account=actor, target=target):
            await Block.create(account=actor, target=target, uri=activity.id)
        for follower, followee in ((actor, target), (target, actor)):
            follow = await Follow.get_or_none(follower=follower, followee=followee)
            if follow is not None and await Follow.filter(id=follow.id).delete():
                if follow.state == FollowState.ACCEPTED:
                    await count_follow(follower.id, followee.id, -1)
