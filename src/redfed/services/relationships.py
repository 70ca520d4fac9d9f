"""Blocks (federated) and mutes (private). A block removes follows both ways.

Only the Block itself is federated: receiving servers drop both follows on a Block
(Mastodon's and GoToSocial's inboxes do), so no extra Undo/Reject is sent.
"""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from redfed.activitypub import uris
from redfed.errors import ValidationError
from redfed.ids import new_id
from redfed.models import Account, Block, Follow, FollowState, Mute
from redfed.runtime import Runtime
from redfed.services import outbox
from redfed.services.follows import move_follow_counters


async def block_account(rt: Runtime, account: Account, target: Account) -> Block:
    if account.id == target.id:
        raise ValidationError("You cannot block yourself.", field="account")
    existing = await Block.get_or_none(account_id=account.id, target_id=target.id)
    if existing is not None:
        return existing
    async with in_transaction():
        block_id = new_id()
        block = await Block.create(
            id=block_id,
            account=account,
            target=target,
            uri=uris.block_uri(uris.actor_uri(rt.base_url, account.username), block_id),
        )
        follows = await Follow.filter(
            Q(follower_id=account.id, followee_id=target.id)
            | Q(follower_id=target.id, followee_id=account.id)
        )
        for follow in follows:
            await follow.delete()
            if follow.state == FollowState.ACCEPTED:
                await move_follow_counters(follow, -1)
        await outbox.account_blocked(block)
    return block


async def unblock_account(rt: Runtime, account: Account, target: Account) -> bool:
    block = await Block.get_or_none(account_id=account.id, target_id=target.id)
    if block is None:
        return False
    async with in_transaction():
        await outbox.account_unblocked(block)  # before the row goes
        await block.delete()
    return True


async def mute_account(account: Account, target: Account) -> Mute:
    if account.id == target.id:
        raise ValidationError("You cannot mute yourself.", field="account")
    mute, _ = await Mute.get_or_create(account=account, target=target)
    return mute


async def unmute_account(account: Account, target: Account) -> bool:
    return bool(await Mute.filter(account_id=account.id, target_id=target.id).delete())


async def relationship(viewer: Account | None, target: Account) -> dict[str, bool]:
    """What the viewer's buttons should show for `target`."""
    if viewer is None or viewer.id == target.id:
        return {"blocking": False, "muting": False}
    return {
        "blocking": await Block.filter(account_id=viewer.id, target_id=target.id).exists(),
        "muting": await Mute.filter(account_id=viewer.id, target_id=target.id).exists(),
    }
