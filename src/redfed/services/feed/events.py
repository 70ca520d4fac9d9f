"""Engagement events from local users: recorded, applied to the interest profile and signals,
kept 90 days, exported or erased on request. Never federated (nothing here calls the outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from redfed.errors import NotFound, ValidationError
from redfed.models import Account, FeedEvent, Job, Note, NoteTag
from redfed.runtime import Runtime
from redfed.services import jobs

from . import signals
from .profile import event_deltas
from .types import FeedEvent as Kind
from .types import FeedSettings

log = logging.getLogger(__name__)

COENGAGEMENT_JOB = "feed.coengage"
RETENTION = timedelta(days=90)
MAX_IMPRESSIONS = 60  # one beacon carries at most this many cards
MAX_DWELL_SECONDS = 600.0


async def note_tags(note_id: int) -> list[str]:
    return [
        str(t) for t in await NoteTag.filter(note_id=note_id).values_list("tag__name", flat=True)
    ]


async def record_event(
    account: Account, kind: Kind, note: Note, fs: FeedSettings, *, value: float = 1.0
) -> FeedEvent:
    """Store one event and apply it: profile weights and engagement now (the next page needs
    them), co-engagement pairs in the worker."""
    if kind is Kind.IMPRESSION:
        raise ValidationError("impressions are recorded in batches")
    if kind is Kind.DWELL:
        value = min(max(value, 0.0), MAX_DWELL_SECONDS)
    event = await FeedEvent.create(
        account_id=account.id,
        note_id=note.id,
        author_id=note.account_id,  # type: ignore[attr-defined]
        kind=kind.value,
        value=value,
    )
    deltas = event_deltas(
        kind,
        tags=await note_tags(note.id),
        author_id=int(note.account_id),  # type: ignore[attr-defined]
        language=note.language or None,
        settings=fs,
        dwell_seconds=value,
    )
    await signals.add_interest_deltas(account.id, deltas, fs)
    await signals.bump_engagement(note, kind)
    if kind in (Kind.LIKE, Kind.COLLECT):
        # Pairing with the person's last 100 positives reads and writes up to ~200 neighbour
        # rows: the worker does it, and the like's transaction only queues it.
        payload = {"account_id": account.id, "note_id": note.id, "event_id": event.id}
        await jobs.enqueue(COENGAGEMENT_JOB, payload, unique_key=f"{COENGAGEMENT_JOB}:{event.id}")
    log.debug("feed.event kind=%s", kind.value)
    return event


async def pair_liked_note_job(rt: Runtime, job: Job) -> None:
    """Worker entry point for `feed.coengage`: pair one like with the positives before it.
    An event erased meanwhile (the person reset what Explore keeps) pairs nothing.

    The increments are added, not set: a second run would count them twice. So the job is
    marked done in the transaction that adds them (jobs.finish_once), and a run after a crash
    or an expired lease finds it done; the trim commits with them too."""
    p = job.payload
    async with in_transaction():
        if not await jobs.finish_once(job):
            return
        if await FeedEvent.exists(id=int(p["event_id"])):
            await signals.add_coengagement(
                int(p["account_id"]), int(p["note_id"]), int(p["event_id"])
            )


async def record_impressions(account: Account, note_ids: Sequence[int]) -> int:
    """One write for a page of cards seen (the beacon batches them)."""
    ids = list(dict.fromkeys(int(i) for i in note_ids))[:MAX_IMPRESSIONS]
    if not ids:
        return 0
    known = await Note.filter(id__in=ids).values_list("id", "account_id")
    rows = [
        FeedEvent(account_id=account.id, note_id=n, author_id=a, kind=Kind.IMPRESSION.value)
        for n, a in known
    ]
    await FeedEvent.bulk_create(rows)
    return len(rows)


async def seen_note_ids(account_id: int, since: datetime) -> set[int]:
    """Notes the person already saw or acted on lately (left out of Explore)."""
    rows = await FeedEvent.filter(
        account_id=account_id, created_at__gte=since, note_id__isnull=False
    ).values_list("note_id", flat=True)
    return {int(r) for r in rows}  # type: ignore[call-overload]


async def export_events(account: Account) -> dict[str, Any]:
    """Everything the feed keeps about the person: their events and their interest weights."""
    events = (
        await FeedEvent.filter(account_id=account.id)
        .order_by("id")
        .values("kind", "note_id", "author_id", "value", "created_at")
    )
    weights = await signals.load_profile(account.id)
    return {
        "events": [{**e, "created_at": e["created_at"].isoformat()} for e in events],
        "interests": {k: w for k, (w, _) in sorted(weights.entries.items())},
        "retention_days": RETENTION.days,
    }


async def reset_events(account: Account) -> int:
    """Forget the person: events and interests. Returns events removed.

    Aggregates others share (note engagement, co-engagement pairs) are anonymous and decay.
    Explore keeps no sessions on the server (the paging state lives in the cursor).
    """
    removed = await FeedEvent.filter(account_id=account.id).delete()
    await signals.reset_profile(account.id)
    return int(removed)


async def purge_old_events(now: datetime, batch: int = 5000) -> int:
    """Delete at most `batch` events older than 90 days (the job runs again if more remain)."""
    ids = (
        await FeedEvent.filter(created_at__lt=now - RETENTION)
        .limit(batch)
        .values_list("id", flat=True)
    )
    if not ids:
        return 0
    return int(await FeedEvent.filter(id__in=list(ids)).delete())


async def get_note(note_id: int) -> Note:
    note = await Note.get_or_none(id=note_id)
    if note is None:
        raise NotFound()
    return note
