"""The worker's `inbox` job: parse the stored activity and hand it to its type's module."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redfed.activitypub.normalize import InvalidActivity
from redfed.activitypub.parse import parse_activity
from redfed.inbox import (
    accept,
    announce,
    block,
    create,
    delete,
    follow,
    like,
    move,
    reject,
    undo,
    update,
)
from redfed.inbox.common import Ignored
from redfed.models import Account, Job
from redfed.runtime import Runtime

log = logging.getLogger(__name__)

TypeHandler = Callable[[Runtime, Any, Account], Awaitable[None]]

HANDLERS: dict[str, TypeHandler] = {
    "Follow": follow.handle_follow,
    "Accept": accept.handle_accept,
    "Reject": reject.handle_reject,
    "Undo": undo.handle_undo,
    "Create": create.handle_create,
    "Update": update.handle_update,
    "Delete": delete.handle_delete,
    "Like": like.handle_like,
    "EmojiReact": like.handle_like,  # Misskey/Pleroma reactions count as likes
    "Announce": announce.handle_announce,
    "Block": block.handle_block,
    "Move": move.handle_move,
}


async def process_inbox_job(rt: Runtime, job: Job) -> None:
    """Apply one stored activity. Unauthorised or pointless activities end quietly; network
    failures propagate so the worker retries (the job's `max_attempts` bounds that)."""
    payload: dict[str, Any] = job.payload
    try:
        activity = parse_activity(payload["activity"])
    except (InvalidActivity, KeyError) as exc:
        log.info("inbox.invalid job=%d error=%s", job.id, exc)
        return
    actor = await Account.get_or_none(uri=payload.get("signer"))
    handler = HANDLERS.get(activity.type)
    if actor is None or actor.uri != activity.actor or handler is None:
        log.info("inbox.skipped id=%s type=%s", activity.id, activity.type[:40])
        return
    try:
        await handler(rt, activity, actor)
    except (Ignored, InvalidActivity) as exc:
        log.info("inbox.ignored id=%s type=%s reason=%s", activity.id, activity.type, exc)
        return
    log.info("inbox.applied id=%s type=%s", activity.id, activity.type)
