"""Notifications of local accounts: likes, comments, follows, follow requests and mentions.

Never to yourself, never to remote accounts, never from accounts the recipient blocks or mutes.
"""

from __future__ import annotations

from tortoise.expressions import Q

from redfed.models import Account, Block, Mute, Note, Notification, NotificationKind

PAGE_SIZE = 40


async def notify(
    recipient: Account, kind: NotificationKind, actor: Account, note: Note | None = None
) -> Notification | None:
    if recipient.id == actor.id or not recipient.is_local:
        return None
    if await Block.filter(
        Q(account_id=recipient.id, target_id=actor.id)
        | Q(account_id=actor.id, target_id=recipient.id)
    ).exists():
        return None
    if await Mute.filter(account_id=recipient.id, target_id=actor.id).exists():
        return None
    return await Notification.create(recipient=recipient, kind=kind, actor=actor, note=note)


async def list_notifications(account: Account, *, max_id: int | None = None) -> list[Notification]:
    """Newest first, 40 a page; none from suspended, blocked or muted actors."""
    query = Notification.filter(recipient_id=account.id, actor__suspended_at__isnull=True)
    blocked = await Block.filter(account_id=account.id).values_list("target_id", flat=True)
    muted = await Mute.filter(account_id=account.id).values_list("target_id", flat=True)
    hidden = {*blocked, *muted}
    if hidden:
        query = query.exclude(actor_id__in=list(hidden))
    if max_id is not None:
        query = query.filter(id__lt=max_id)
    return list(await query.order_by("-id").limit(PAGE_SIZE).prefetch_related("actor", "note"))


async def unread_count(account: Account) -> int:
    return await Notification.filter(recipient_id=account.id, read=False).count()


async def mark_all_read(account: Account) -> int:
    return await Notification.filter(recipient_id=account.id, read=False).update(read=True)
