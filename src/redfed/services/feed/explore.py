"""The Explore page: retrieve → filter (visibility is services.visibility's) → score with α →
re-rank → page. A server-side session row remembers what was shown, so pages never repeat.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q, Subquery

from redfed.config import Settings
from redfed.models import Account, AuthorEngagement, ExploreSession, Follow, Note, NoteTag, User
from redfed.services.timelines import explore_newest
from redfed.services.visibility import visible_notes_query

from .candidates import NEW_CREATOR_DAYS, SMALL_CREATOR_FOLLOWERS, Retrieved, gather
from .events import seen_note_ids
from .explain import explain
from .profile import InterestProfile, empty_profile, profile_from_interests
from .rerank import rerank
from .signals import feed_settings, load_config, load_profile
from .types import Candidate, FeedSettings, Reason

PAGE_SIZE = 20
SEEN_DAYS = 7
MAX_SHOWN = 2000  # a session remembers at most this many cards (≈ 100 pages)
_TOP_LEVEL = Q(in_reply_to_id__isnull=True, in_reply_to_uri="")


@dataclass(frozen=True, slots=True)
class _Row:
    """The columns ranking needs of one eligible candidate (plain values, no model object)."""

    id: int
    author_id: int
    language: str
    published_at: datetime
    engagement: float
    followers: int
    author_created_at: datetime


_ROW_COLUMNS = (
    "id",
    "account_id",
    "language",
    "published_at",
    "engagement",
    "account__followers_count",
    "account__created_at",
)


@dataclass(frozen=True)
class ExplorePage:
    cards: list[tuple[Note, list[Reason]]]
    next_cursor: str | None


async def explore_page(
    viewer: Account | None,
    cursor: str | None,
    settings: Settings,
    *,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> ExplorePage:
    """One page of Explore for `viewer` (None: anonymous, non-personalised)."""
    # numpy (~10 MB resident) loads with the first Explore page, not at start-up.
    from .scoring import score_candidates  # noqa: PLC0415

    now = now or datetime.now(UTC)
    user = await User.get_or_none(account_id=viewer.id) if viewer is not None else None
    if user is not None and user.feed_mode == "chronological":
        return await _chronological(viewer, cursor)
    session = await _session(viewer, cursor)
    fs = await feed_settings(settings)
    profile = await _profile(viewer, fs, now)
    weights = profile.weights(now, fs.profile_half_life_days)
    languages = _reader_languages(viewer, weights)
    tag_weights = {k[4:]: w for k, w in weights.items() if k.startswith("tag:")}
    found = await gather(viewer.id if viewer else None, tag_weights, languages, now)
    skip = set(session.shown)
    if viewer is not None:
        skip |= await seen_note_ids(viewer.id, now - timedelta(days=SEEN_DAYS))
    rows = await _eligible(viewer, user, found, skip, languages, settings)
    cands = await _candidates(rows, found, now)
    scored = score_candidates(profile, cands, fs, now, limit=fs.mmr_pool + 2 * page_size)
    page = rerank(scored, fs, page_size, [int(a) for a in session.last_authors])
    # Full models only for the page: building ~1,000 Note objects was most of the latency.
    picked = [s.candidate.note_id for s in page]
    by_id = {n.id: n for n in await Note.filter(id__in=picked).prefetch_related("account")}
    cards = [(by_id[s.candidate.note_id], explain(s)) for s in page if s.candidate.note_id in by_id]
    await _remember(session, [n.id for n, _ in cards], [n.account_id for n, _ in cards])  # type: ignore[attr-defined]
    return ExplorePage(cards, session.id if cards else None)


async def _profile(viewer: Account | None, fs: FeedSettings, now: datetime) -> InterestProfile:
    """The stored profile; before any is stored, the sign-up interests (cold start)."""
    if viewer is None:
        return empty_profile()
    profile = await load_profile(viewer.id)
    if len(profile) == 0:
        tags = [str(t) for t in viewer.interests or []]
        return profile_from_interests(tags, [str(x) for x in viewer.languages or []], now, fs)
    return profile


async def _chronological(viewer: Account | None, cursor: str | None) -> ExplorePage:
    max_id = int(cursor[1:]) if cursor and cursor.startswith("c") and cursor[1:].isdigit() else None
    notes = await explore_newest(viewer, max_id=max_id)
    return ExplorePage([(n, []) for n in notes], f"c{notes[-1].id}" if notes else None)


async def _session(viewer: Account | None, cursor: str | None) -> ExploreSession:
    """The cursor's session when it belongs to this viewer; a fresh one otherwise."""
    account_id = viewer.id if viewer is not None else None
    if cursor and len(cursor) <= 32:
        found = await ExploreSession.get_or_none(id=cursor)
        if found is not None and found.account_id == account_id:  # type: ignore[attr-defined]
            return found
    return ExploreSession(id=secrets.token_urlsafe(16), account_id=account_id, shown=[])


async def _remember(session: ExploreSession, note_ids: list[int], authors: list[int]) -> None:
    session.shown = [*session.shown, *note_ids][-MAX_SHOWN:]
    session.last_authors = authors
    await session.save()


def _reader_languages(viewer: Account | None, weights: dict[str, float]) -> list[str]:
    """Languages the person reads: their account's, plus those they engage with."""
    langs = [str(x).lower() for x in (viewer.languages if viewer is not None else []) or []]
    langs += [k[5:] for k, w in weights.items() if k.startswith("lang:") and w > 0]
    return sorted(set(langs))


async def _eligible(
    viewer: Account | None,
    user: User | None,
    found: Retrieved,
    skip: set[int],
    languages: Sequence[str],
    settings: Settings,
) -> list[_Row]:
    """The candidates the viewer may see and wants: visibility, blocks, mutes and domain blocks
    come from services.visibility (public listing), then Explore's own rules."""
    ids = [i for i in found.sources if i not in skip]
    if not ids:
        return []
    query = (await visible_notes_query(viewer, public_listing=True)).filter(
        _TOP_LEVEL, id__in=ids, account__discoverable=True
    )
    if viewer is not None:
        query = query.exclude(account_id=viewer.id)
    policy = (await load_config(settings)).remote_in_explore
    if policy == "none":
        query = query.filter(local=True)
    elif policy == "followed":
        followed_by_locals = Follow.filter(follower__domain__isnull=True).values("followee_id")
        query = query.filter(Q(local=True) | Q(account_id__in=Subquery(followed_by_locals)))
    if not (user is not None and user.show_sensitive):
        query = query.filter(sensitive=False)
    if languages and not (user is not None and user.auto_translate):
        query = query.filter(Q(language__in=list(languages)) | Q(language=""))
    return [_Row(*row) for row in await query.values_list(*_ROW_COLUMNS)]


async def _candidates(rows: list[_Row], found: Retrieved, now: datetime) -> list[Candidate]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    tags: dict[int, set[str]] = {}
    for note_id, name in await NoteTag.filter(note_id__in=ids).values_list("note_id", "tag__name"):
        tags.setdefault(int(note_id), set()).add(str(name))
    authors = list({r.author_id for r in rows})
    author_eng = dict(
        await AuthorEngagement.filter(account_id__in=authors).values_list(
            "account_id", "engagement"
        )
    )
    new_since = now - timedelta(days=NEW_CREATOR_DAYS)
    out = []
    for r in rows:
        coeng, via = found.coengagement.get(r.id, (0.0, None))
        out.append(
            Candidate(
                note_id=r.id,
                author_id=r.author_id,
                tags=frozenset(tags.get(r.id, ())),
                language=r.language or None,
                published_at=_aware(r.published_at),
                engagement=float(r.engagement),
                author_engagement=float(author_eng.get(r.author_id, 0.0)),
                author_is_small_or_new=(
                    r.followers < SMALL_CREATOR_FOLLOWERS
                    or _aware(r.author_created_at) >= new_since
                ),
                sources=frozenset(found.sources.get(r.id, ())),
                coengagement=coeng,
                via_note_id=via,
            )
        )
    return out


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
