"""Follow: a remote actor asks to follow a local account (auto-accepted unless it is locked)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from redfed.activitypub.parse import ParsedActivity
from redfed.inbox.common import (
    count_follow,
    local_account_by_uri,
    notify,
    require,
    require_same_host,
    was_undone,
)
from redfed.models import Account, Block, Follow, FollowState, NotificationKind
from redfed.runtime import Runtime
from redfed.services import outbox


async def handle_follow(rt: Runtime, activity: ParsedActivity, actor: Account) -> None:
    require_same_host(activity, activity.id)
    followee = await local_account_by_uri(activity.object_id)
    require(followee is not None, "follow of an unknown local account")
    assert followee is not None
    require(not await was_undone(actor, activity.id), "follow undone before it arrived (IDEM-04)")
    require(not await Block.exists(account=followee, target=actor), "followee blocks the actor")
    async with in_transaction():
        existing = await Follow.select_for_update().get_or_none(follower=actor, followee=followee)
        if existing is not None:
            # A repeated Follow (peers re-send after losing state): refresh its id and, if it
            # was accepted, accept again so the peer's state heals.
            if existing.uri != activity.id:
                await Follow.filter(id=existing.id).update(uri=activity.id)
                existing.uri = activity.id
            if existing.state == FollowState.ACCEPTED:
                await outbox.follow_accepted(existing)
            return
        state = FollowState.PENDING if followee.locked else FollowState.ACCEPTED
        follow = await Follow.create(
            follower=actor, followee=followee, state=state, uri=activity.id
        )
        if state == FollowState.ACCEPTED:
            await count_follow(actor.id, followee.id, +1)
            await outbox.follow_accepted(follow)
            await notify(followee.id, NotificationKind.FOLLOW, actor)
        else:
            await notify(followee.id, NotificationKind.FOLLOW_REQUEST, actor)
