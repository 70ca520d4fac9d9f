"""Following: follow/unfollow, follow requests for locked accounts (approve/reject), counters.

Counters count accepted follows only; a pending request moves no counter.
"""

from __future__ import annotations

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from redfed.activitypub import uris
from redfed.errors import Forbidden, NotFound, ValidationError
from redfed.ids import new_id
from redfed.models import Account, Follow, FollowState, NotificationKind
from redfed.runtime import Runtime
from redfed.services import outbox
from redfed.services.notifications import notify
from redfed.services.visibility import account_hidden, is_blocked_between


async def move_follow_counters(follow: Follow, step: int) -> None:
    """Move both counters of an accepted follow by `step` (never below zero)."""
    follower_q = Account.filter(id=follow.follower_id)  # type: ignore[attr-defined]
    followee_q = Account.filter(id=follow.followee_id)  # type: ignore[attr-defined]
    if step < 0:
        follower_q = follower_q.filter(following_count__gt=0)
        followee_q = followee_q.filter(followers_count__gt=0)
    await follower_q.update(following_count=F("following_count") + step)
    await followee_q.update(followers_count=F("followers_count") + step)


async def follow_account(rt: Runtime, follower: Account, followee: Account) -> Follow:
    """Follow (or ask to follow a locked or remote account). Idempotent."""
    if follower.id == followee.id:
        raise ValidationError("You cannot follow yourself.", field="account")
    if await account_hidden(None, followee):
        raise NotFound()
    if await is_blocked_between(follower, followee):
        raise Forbidden("You cannot follow this account.")
    existing = await Follow.get_or_none(follower_id=follower.id, followee_id=followee.id)
    if existing is not None:
        return existing
    # Remote accounts answer with Accept later (inbox); local unlocked ones accept at once.
    accepted = followee.is_local and not followee.locked
    async with in_transaction():
        follow_id = new_id()
        follow = await Follow.create(
            id=follow_id,
            follower=follower,
            followee=followee,
            state=FollowState.ACCEPTED if accepted else FollowState.PENDING,
            uri=uris.follow_uri(uris.actor_uri(rt.base_url, follower.username), follow_id),
        )
        if accepted:
            await move_follow_counters(follow, +1)
        kind = NotificationKind.FOLLOW if accepted else NotificationKind.FOLLOW_REQUEST
        await notify(followee, kind, follower)
        await outbox.follow_requested(follow)
    return follow


async def unfollow_account(rt: Runtime, follower: Account, followee: Account) -> bool:
    """Stop following, or withdraw a pending request. False when there was nothing."""
    follow = await Follow.get_or_none(follower_id=follower.id, followee_id=followee.id)
    if follow is None:
        return False
    async with in_transaction():
        await outbox.follow_undone(follow)  # before the row goes
        await follow.delete()
        if follow.state == FollowState.ACCEPTED:
            await move_follow_counters(follow, -1)
    return True


async def _pending_request(owner: Account, follow_id: int) -> Follow:
    follow = await Follow.get_or_none(id=follow_id, followee_id=owner.id, state=FollowState.PENDING)
    if follow is None:
        raise NotFound()
    return follow


async def accept_follow(rt: Runtime, owner: Account, follow_id: int) -> Follow:
    """Approve a pending request to follow `owner`."""
    follow = await _pending_request(owner, follow_id)
    async with in_transaction():
        updated = await Follow.filter(id=follow.id, state=FollowState.PENDING).update(
            state=FollowState.ACCEPTED
        )
        if updated:
            follow.state = FollowState.ACCEPTED
            await move_follow_counters(follow, +1)
            await notify(owner, NotificationKind.FOLLOW, await follow.follower)
            await outbox.follow_accepted(follow)
    return follow


async def reject_follow(rt: Runtime, owner: Account, follow_id: int) -> None:
    """Refuse a pending request; the row goes (after the Reject is enqueued)."""
    follow = await _pending_request(owner, follow_id)
    async with in_transaction():
        await outbox.follow_rejected(follow)
        await follow.delete()


async def pending_requests(owner: Account) -> list[Follow]:
    return list(
        await Follow.filter(followee_id=owner.id, state=FollowState.PENDING)
        .filter(follower__suspended_at__isnull=True)
        .order_by("-id")
        .prefetch_related("follower")
    )


async def follow_state(viewer: Account | None, account: Account) -> FollowState | None:
    """The viewer's follow of `account`: accepted, pending, or None."""
    if viewer is None:
        return None
    follow = await Follow.get_or_none(follower_id=viewer.id, followee_id=account.id)
    return follow.state if follow else None
