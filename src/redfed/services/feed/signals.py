"""Stored feed signals: interest profiles (InterestWeight rows, decayed lazily), co-engagement
neighbours (NoteNeighbour), decayed engagement per note and per author, and feed settings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType

from tortoise.expressions import F

from redfed.config import Settings
from redfed.errors import ValidationError
from redfed.models import (
    Account,
    FeedConfig,
    FeedEvent,
    InterestWeight,
    Note,
    User,
)
from redfed.services.visibility import raw_rows

from .coengagement import RECENT_POSITIVES, STORED_NEIGHBOURS, like_increments
from .profile import InterestProfile, add_weights, profile_from_interests, set_interest
from .types import FeedEvent as Kind
from .types import FeedSettings

log = logging.getLogger(__name__)

POSITIVE_KINDS = (Kind.LIKE.value, Kind.COLLECT.value, Kind.COMMENT.value)
# How much one event adds to a note's (and its author's) decayed engagement.
ENGAGEMENT_WEIGHTS = {Kind.LIKE: 1.0, Kind.COLLECT: 2.0, Kind.COMMENT: 2.0, Kind.OPEN: 0.3}


def utcnow() -> datetime:
    return datetime.now(UTC)


async def feed_settings(settings: Settings) -> FeedSettings:
    """Ranking knobs: code defaults, with the admin's α and new-creator share on top."""
    return ranking_settings(await load_config(settings))


def ranking_settings(cfg: FeedConfig) -> FeedSettings:
    return FeedSettings(alpha=cfg.alpha, new_creator_share=cfg.new_creator_share)


async def load_config(settings: Settings) -> FeedConfig:
    """The admin row, or an unsaved one holding the `settings.feed` defaults."""
    row = await FeedConfig.get_or_none(id=1)
    if row is not None:
        return row
    f = settings.feed
    return FeedConfig(
        id=1,
        alpha=f.author_damping,
        new_creator_share=f.new_creator_share,
        remote_in_explore=f.remote_in_explore,
    )


REMOTE_POLICIES = ("all", "followed", "none")
FEED_MODES = ("interest", "chronological")


async def save_config(alpha: float, new_creator_share: float, remote_in_explore: str) -> None:
    """Store the admin's feed knobs in the one FeedConfig row."""
    if remote_in_explore not in REMOTE_POLICIES:
        raise ValidationError("Choose one of the options.", field="remote_in_explore")
    await FeedConfig.update_or_create(
        id=1,
        defaults={
            "alpha": alpha,
            "new_creator_share": new_creator_share,
            "remote_in_explore": remote_in_explore,
        },
    )


async def set_feed_mode(user_id: int, mode: str) -> None:
    """Explore ranked by interests, or newest first."""
    if mode not in FEED_MODES:
        raise ValidationError("Choose Explore or newest first.", field="feed_mode")
    await User.filter(id=user_id).update(feed_mode=mode)


# ----------------------------------------------------------------------------- profiles
async def load_profile(account_id: int) -> InterestProfile:
    rows = await InterestWeight.filter(account_id=account_id).values_list(
        "key", "weight", "updated_at"
    )
    entries = {str(k): (float(w), _ts(at)) for k, w, at in rows}
    return InterestProfile(MappingProxyType(entries))


def _ts(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


async def save_profile(account_id: int, old: InterestProfile, new: InterestProfile) -> None:
    """Write only the keys that changed (a like touches a handful of the ~300 keys)."""
    gone = [k for k in old.entries if k not in new.entries]
    if gone:
        await InterestWeight.filter(account_id=account_id, key__in=gone).delete()
    changed = {k: v for k, v in new.entries.items() if old.entries.get(k) != v}
    if not changed:
        return
    existing = {
        str(k)
        for k in await InterestWeight.filter(
            account_id=account_id, key__in=list(changed)
        ).values_list("key", flat=True)
    }
    for key in existing:
        w, at = changed[key]
        await InterestWeight.filter(account_id=account_id, key=key).update(
            weight=w, updated_at=datetime.fromtimestamp(at, UTC)
        )
    fresh = [
        InterestWeight(
            account_id=account_id, key=k, weight=w, updated_at=datetime.fromtimestamp(at, UTC)
        )
        for k, (w, at) in changed.items()
        if k not in existing
    ]
    if fresh:
        await InterestWeight.bulk_create(fresh)


async def add_interest_deltas(
    account_id: int, deltas: Mapping[str, float], fs: FeedSettings, now: datetime | None = None
) -> None:
    if not deltas:
        return
    old = await load_profile(account_id)
    await save_profile(account_id, old, add_weights(old, deltas, now or utcnow(), fs))


async def seed_from_signup(account: Account, fs: FeedSettings) -> None:
    """The cold-start profile from `Account.interests` and `Account.languages`."""
    old = await load_profile(account.id)
    seeded = profile_from_interests(
        [str(t) for t in account.interests or []],
        [str(lang) for lang in account.languages or []],
        utcnow(),
        fs,
    )
    merged = add_weights(old, seeded.weights(utcnow(), fs.profile_half_life_days), utcnow(), fs)
    await save_profile(account.id, old, merged)


async def set_weight(account_id: int, key: str, weight: float, fs: FeedSettings) -> None:
    """The person edits one interest on /settings/interests (0 removes it)."""
    old = await load_profile(account_id)
    await save_profile(account_id, old, set_interest(old, key, weight, utcnow(), fs))


async def reset_profile(account_id: int) -> None:
    """Forget the person's interests: the weights, and the topics picked at sign-up, which
    Explore's cold start would otherwise read back at once (an empty profile falls back to
    them) and keep saying "you like #…" after the reset."""
    await InterestWeight.filter(account_id=account_id).delete()
    await Account.filter(id=account_id).update(interests=[])


# ----------------------------------------------------------------------------- engagement
async def bump_engagement(note: Note, kind: Kind) -> None:
    """Add one event to the note's and its author's decayed engagement, each added by the
    database (no lost update when two people like at once, even an author's first two)."""
    w = ENGAGEMENT_WEIGHTS.get(kind, 0.0)
    if w <= 0:
        return
    await Note.filter(id=note.id).update(engagement=F("engagement") + w)
    author_id = int(note.account_id)  # type: ignore[attr-defined]
    await raw_rows(_ADD_AUTHOR_ENGAGEMENT, [author_id, w])


# Update-or-insert in one statement: an update that found no row followed by an insert that
# ignored a conflict lost the increment of whichever of two first likes came second.
_ADD_AUTHOR_ENGAGEMENT = (
    "INSERT INTO feed_author_engagement (account_id, engagement) VALUES ({}, {})"
    " ON CONFLICT (account_id)"
    " DO UPDATE SET engagement = feed_author_engagement.engagement + excluded.engagement"
)


async def recent_positive_ids(
    account_id: int, limit: int = RECENT_POSITIVES, *, before_event_id: int | None = None
) -> list[int]:
    """The person's latest liked/collected/commented notes, newest first, no repeats; with
    `before_event_id`, only those from before that event."""
    query = FeedEvent.filter(account_id=account_id, kind__in=POSITIVE_KINDS, note_id__isnull=False)
    if before_event_id is not None:
        query = query.filter(id__lt=before_event_id)
    rows = await query.order_by("-id").limit(limit * 2).values_list("note_id", flat=True)
    return list(dict.fromkeys(int(r) for r in rows))[:limit]  # type: ignore[call-overload]


# Each increment is added by the database (no read-modify-write: two likes at once lose
# nothing), then every touched note keeps its top k stored pairs (ties: the smaller neighbour
# id, as coengagement.top_neighbours); candidates.by_neighbours serves the top DEFAULT_TOP_K.
# Window functions: SQLite ≥ 3.25, PostgreSQL.
_ADD_PAIRS = (
    "INSERT INTO note_neighbours (note_id, neighbour_id, score) VALUES {rows}"
    " ON CONFLICT (note_id, neighbour_id)"
    " DO UPDATE SET score = note_neighbours.score + excluded.score"
)
_KEEP_TOP = (
    "DELETE FROM note_neighbours WHERE note_id IN ({notes}) AND id NOT IN ("
    "SELECT id FROM (SELECT id, ROW_NUMBER() OVER ("
    "PARTITION BY note_id ORDER BY score DESC, neighbour_id) AS pos"
    " FROM note_neighbours WHERE note_id IN ({notes})) AS ranked WHERE pos <= {{}})"
)


async def add_coengagement(
    account_id: int, note_id: int, event_id: int, k: int = STORED_NEIGHBOURS
) -> None:
    """Pair a liked note with the person's positives before that like (`event_id`), both
    directions: up to 2 × RECENT_POSITIVES pair increments in one statement, and one more to
    trim the touched notes to their top k. Runs in the worker (events.COENGAGEMENT_JOB):
    a like only queues it. Not idempotent (it adds): the job calls it in the transaction
    that marks the job done, so the two statements and the mark commit together."""
    recent = [
        i for i in await recent_positive_ids(account_id, before_event_id=event_id) if i != note_id
    ]
    if not recent:
        return
    positives = await FeedEvent.filter(
        account_id=account_id, kind__in=POSITIVE_KINDS, id__lte=event_id
    ).count()
    # In key order: PostgreSQL locks the rows in the order of the VALUES, and two jobs that
    # lock (a, b) and (b, a) in opposite orders deadlock (one liked a then b, one b then a).
    increments = sorted(like_increments(note_id, recent, positives))
    params: list[object] = [value for row in increments for value in row]
    await raw_rows(_ADD_PAIRS.format(rows=", ".join(["({}, {}, {})"] * len(increments))), params)
    touched = sorted({a for a, _, _ in increments})
    marks = ", ".join(["{}"] * len(touched))
    await raw_rows(_KEEP_TOP.format(notes=marks), [*touched, *touched, k])
