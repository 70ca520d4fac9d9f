"""The worker's `inbox` job: parse the stored activity and hand it to its type's module."""

from __future__ import annotations

import logging
import time
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
from redfed.services.actor_refresh import refresh_if_stale

log = logging.getLogger(__name__)

ACTOR_CACHE_SECONDS = 2.0
ACTOR_CACHE_SIZE = 1_000
ACTOR_CHANGES = frozenset({"Update", "Delete", "Move"})  # may change the actor's own row
_ACTORS = "inbox.actors"

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
    handler = HANDLERS.get(activity.type)
    actor = await _signer(rt, str(payload.get("signer")), fresh=activity.type in ACTOR_CHANGES)
    if actor is None or actor.uri != activity.actor or handler is None:
        log.info("inbox.skipped id=%s type=%s", activity.id, activity.type[:40])
        return
    await refresh_if_stale(rt, [actor])  # no query unless its document is a day old
    try:
        await handler(rt, activity, actor)
    except (Ignored, InvalidActivity) as exc:
        log.info("inbox.ignored id=%s type=%s reason=%s", activity.id, activity.type, exc)
        return
    finally:
        if activity.type in ACTOR_CHANGES:
            rt.state.get(_ACTORS, {}).pop(actor.uri, None)
    log.info("inbox.applied id=%s type=%s", activity.id, activity.type)


async def _signer(rt: Runtime, uri: str, *, fresh: bool) -> Account | None:
    """The signer's row, read at most every ACTOR_CACHE_SECONDS: a busy actor's burst of
    activities shares one read (an Account has ~36 columns; reading it cost a third of a
    Create's CPU). Handlers only read the actor, and activities that change it read it fresh."""
    cache: dict[str, tuple[Account, float]] = rt.state.setdefault(_ACTORS, {})
    hit, now = cache.get(uri), time.monotonic()
    if hit is not None and hit[1] > now and not fresh:
        return hit[0]
    actor = await Account.get_or_none(uri=uri)
    if len(cache) >= ACTOR_CACHE_SIZE:
        cache.clear()  # bounded; the next reads refill it
    if actor is not None:
        cache[uri] = (actor, now + ACTOR_CACHE_SECONDS)
    return actor
