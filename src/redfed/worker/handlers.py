"""Which function runs each job kind. One line per kind; the functions live in lower layers."""

from __future__ import annotations

from redfed.inbox.dispatch import process_inbox_job
from redfed.services import actor_refresh, delivery, fanout, housekeeping
from redfed.services.feed import maintenance as feed_maintenance
from redfed.services.feed.events import COENGAGEMENT_JOB, pair_liked_note_job
from redfed.services.feed.maintenance import DECAY_KIND, handle_decay, handle_maintenance
from redfed.services.remote_media import (
    REMOVE_REMOTE_MEDIA,
    fetch_remote_media_job,
    remove_remote_media_job,
)
from redfed.worker.runner import Handler


def default_handlers() -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    handlers["federate"] = fanout.federate
    handlers["deliver"] = delivery.deliver
    handlers["inbox"] = process_inbox_job
    handlers["fetch_remote_media"] = fetch_remote_media_job
    handlers[REMOVE_REMOTE_MEDIA] = remove_remote_media_job
    handlers["feed.maintain"] = handle_maintenance
    handlers[DECAY_KIND] = handle_decay
    handlers[COENGAGEMENT_JOB] = pair_liked_note_job
    handlers[housekeeping.KIND] = housekeeping.handle_housekeeping
    handlers[actor_refresh.REFRESH_ACTOR] = actor_refresh.refresh_actor_job
    return handlers


async def schedule_periodic_jobs() -> None:
    """Start the periodic chains (each run queues the next; idempotent per period, so every
    process that runs a worker calls this at start-up)."""
    await feed_maintenance.ensure_scheduled()
    await housekeeping.ensure_scheduled()
