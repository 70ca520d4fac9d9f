"""Accept{Follow}: a remote account accepted one of our follow requests.

Only the followee itself may accept (ORI-11)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from redfed.activitypub.normalize import id_of
from redfed.activitypub.parse import ParsedActivity
from redfed.inbox.common import count_follow, local_account_by_uri, require
from redfed.models import Account, Follow, FollowState


async def find_follow_of(activity: ParsedActivity, followee: Account) -> Follow | None:
    """Our follow that `activity` answers: by its id, else by the embedded Follow's actor.
    Pixelfed and Misskey send the Follow as a bare id; Mastodon embeds it."""
    if activity.object_id:
        follow = await Follow.get_or_none(uri=activity.object_id, followee=followee)
        if follow is not None:
            return follow
    if activity.object is not None:
        follower = await local_account_by_uri(id_of(activity.object.get("actor")) or "")
        if follower is not None:
            return await Follow.get_or_none(follower=follower, followee=followee)
    return None


async def handle_accept(rt: object, activity: ParsedActivity, actor: Account) -> None:
    async with in_transaction():
        follow = await find_follow_of(activity, actor)  # only follows *of the actor* match
        require(follow is not None, "Accept for no follow of this actor")
        assert follow is not None
        require(follow.state == FollowState.PENDING, "Accept of a follow already accepted")
        updated = await Follow.filter(id=follow.id, state=FollowState.PENDING).update(
            state=FollowState.ACCEPTED
        )
        if updated:
            await count_follow(follow.follower_id, actor.id, +1)  # type: ignore[attr-defined]
