"""The Explore page: retrieve → filter (visibility is services.visibility's) → score with α →
re-rank → page. The cursor carries what the session has shown (see cursor.py), so pages never
repeat and no page writes to the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redfed.config import Settings
from redfed.models import Account, Follow, Note, User
from redfed.services.timelines import explore_newest
from redfed.services.visibility import as_datetime, ids_in_sql, public_listing_rows, raw_rows

from . import cursor as paging
from .candidates import NEW_CREATOR_DAYS, SMALL_CREATOR_FOLLOWERS, Retrieved, gather
from .events import seen_note_ids
from .explain import explain
from .profile import InterestProfile, empty_profile, profile_from_interests
from .rerank import rerank
from .signals import feed_settings, load_config, load_profile
from .types import Candidate, FeedSettings, Reason

PAGE_SIZE = 20
SEEN_DAYS = 7


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


# The candidate's ranking columns (0–6, as _Row), then Explore's own rules (7–11), checked in
# Python on the rows read by id (see visibility.public_listing_rows).
_COLUMNS = (
    "n.id, n.account_id, n.language, n.published_at, n.engagement, a.followers_count,"
    " a.created_at, n.in_reply_to_id, n.in_reply_to_uri, a.discoverable, n.local, n.sensitive"
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
    state = paging.decode(cursor, viewer.id if viewer is not None else None)
    fs = await feed_settings(settings)
    profile = await _profile(viewer, fs, now)
    weights = profile.weights(now, fs.profile_half_life_days)
    languages = _reader_languages(viewer, weights)
    tag_weights = {k[4:]: w for k, w in weights.items() if k.startswith("tag:")}
    found = await gather(viewer.id if viewer else None, tag_weights, languages, now)
    skip: set[int] = set()
    if viewer is not None:
        skip = await seen_note_ids(viewer.id, now - timedelta(days=SEEN_DAYS))
    rows = await _eligible(viewer, user, found, skip, state, languages, settings)
    cands = await _candidates(rows, found, now)
    scored = score_candidates(profile, cands, fs, now, limit=fs.mmr_pool + 2 * page_size)
    last_authors = {c.author_id for c in cands if state.was_last_author(c.author_id)}
    page = rerank(scored, fs, page_size, last_authors)
    # Full models only for the page: building ~1,000 Note objects was most of the latency.
    picked = [s.candidate.note_id for s in page]
    by_id = {n.id: n for n in await Note.filter(id__in=picked).prefetch_related("account")}
    cards = [(by_id[s.candidate.note_id], explain(s)) for s in page if s.candidate.note_id in by_id]
    state.remember([n.id for n, _ in cards], [n.account_id for n, _ in cards])  # type: ignore[attr-defined]
    return ExplorePage(cards, paging.encode(state) if cards else None)


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
    state: paging.PagingState,
    languages: Sequence[str],
    settings: Settings,
) -> list[_Row]:
    """The candidates the viewer may see and wants (not seen lately, not shown this session):
    visibility, blocks, mutes and domain blocks come from services.visibility (public
    listing), then Explore's own rules."""
    ids = [i for i in found.sources if i not in skip and not state.was_shown(i)]
    if not ids:
        return []
    rows = await public_listing_rows(viewer, ids, _COLUMNS)
    kept = _wanted(rows, viewer.id if viewer is not None else None, user, languages)
    policy = (await load_config(settings)).remote_in_explore
    if policy == "none":
        kept = [r for r in kept if r[10]]
    elif policy == "followed":
        followed = await _followed_by_locals({int(r[1]) for r in kept if not r[10]})
        kept = [r for r in kept if r[10] or int(r[1]) in followed]
    return [
        _Row(
            int(r[0]),
            int(r[1]),
            r[2] or "",
            as_datetime(r[3]),
            float(r[4]),
            int(r[5]),
            as_datetime(r[6]),
        )
        for r in kept
    ]


def _wanted(
    rows: list[Sequence[Any]], viewer_id: int | None, user: User | None, languages: Sequence[str]
) -> list[Sequence[Any]]:
    """Explore's own rules: top-level, discoverable author, not the viewer's own, sensitive
    only when asked for, and a language the person reads (unless they auto-translate)."""
    show_sensitive = user is not None and user.show_sensitive
    translate = user is not None and user.auto_translate
    langs = set(languages) if languages and not translate else None
    return [
        r
        for r in rows
        if r[7] is None
        and r[8] == ""
        and r[9]
        and r[1] != viewer_id
        and (show_sensitive or not r[11])
        and (langs is None or r[2] == "" or r[2] in langs)
    ]


async def _followed_by_locals(author_ids: set[int]) -> set[int]:
    if not author_ids:
        return set()
    rows = await Follow.filter(
        follower__domain__isnull=True, followee_id__in=list(author_ids)
    ).values_list("followee_id", flat=True)
    return {int(i) for i in rows}  # type: ignore[call-overload]


async def _candidates(rows: list[_Row], found: Retrieved, now: datetime) -> list[Candidate]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    tags: dict[int, set[str]] = {}
    cond, param = ids_in_sql("nt.note_id", ids)
    # Constant SQL; the ids travel as one parameter (see visibility.ids_in_sql).
    join = "note_tags nt JOIN tags t ON t.id = nt.tag_id"
    sql = f"SELECT nt.note_id, t.name FROM {join} WHERE {cond}"  # noqa: S608
    for note_id, name in await raw_rows(sql, [param]):
        tags.setdefault(int(note_id), set()).add(str(name))
    cond, param = ids_in_sql("account_id", list({r.author_id for r in rows}))
    sql = f"SELECT account_id, engagement FROM feed_author_engagement WHERE {cond}"  # noqa: S608
    author_eng = {int(a): float(e) for a, e in await raw_rows(sql, [param])}
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
