"""Helpers shared by the per-type inbox modules: authority checks, lookups, notifications."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from redfed.activitypub.normalize import InvalidActivity, first_type, host_of, id_of, same_host
from redfed.activitypub.parse import ParsedActivity
from redfed.models import Account, Follow, Note, NotificationKind, Tombstone
from redfed.services import notifications
from redfed.services.follows import move_follow_counters

log = logging.getLogger(__name__)


class Ignored(Exception):
    """The activity is well-formed but has no effect here (unauthorised, unknown object, replay).

    Handlers raise it to stop early; the job still ends as done, since a retry cannot help."""


def require(condition: bool, reason: str) -> None:
    if not condition:
        raise Ignored(reason)


def require_same_host(activity: ParsedActivity, *uris: str) -> None:
    """Every id the activity creates or changes lives on the actor's host (ORI-02/08)."""
    for uri in uris:
        if not same_host(uri, activity.actor):
            raise Ignored(f"{uri[:200]} is not on the host of {activity.actor}")


def embedded_of_type(activity: ParsedActivity, *types: str) -> dict[str, Any] | None:
    obj = activity.object
    return obj if obj is not None and first_type(obj) in types else None


async def local_account_by_uri(uri: str) -> Account | None:
    return await Account.get_or_none(uri=uri, domain=None, gone_at=None)


async def note_by_uri(uri: str) -> Note | None:
    return await Note.get_or_none(uri=uri) if uri else None


async def notify(
    recipient_id: int, kind: NotificationKind, actor: Account, note: Note | None = None
) -> None:
    """A notification for a local recipient (the service skips self, remote, blocked, muted)."""
    recipient = await Account.get_or_none(id=recipient_id, domain=None)
    if recipient is not None:
        await notifications.notify(recipient, kind, actor, note)


def undone_marker(actor_uri: str, activity_id: str) -> str:
    """The Tombstone uri remembering that `actor` undid `activity_id` before we saw it (IDEM-04).

    Keyed by the actor too, so nobody can pre-empt another actor's activities."""
    return "undone:" + hashlib.sha256(f"{actor_uri} {activity_id}".encode()).hexdigest()


async def was_undone(actor: Account, activity_id: str) -> bool:
    return await Tombstone.exists(uri=undone_marker(actor.uri, activity_id))


def object_uri_of(value: Any) -> str:
    found = id_of(value)
    if found is None:
        raise InvalidActivity(detail="object without id")
    return found


__all__ = [
    "Ignored",
    "embedded_of_type",
    "host_of",
    "local_account_by_uri",
    "note_by_uri",
    "notify",
    "object_uri_of",
    "require",
    "require_same_host",
]


async def count_follow(follower_id: int, followee_id: int, delta: int) -> None:
    """Keep followers_count / following_count in step with an accepted follow appearing or going."""
    await move_follow_counters(Follow(follower_id=follower_id, followee_id=followee_id), delta)
