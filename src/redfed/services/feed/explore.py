"""The Explore page: retrieve → filter (visibility is services.visibility's) → score with α →
re-rank → page. The cursor carries what the session has shown (see cursor.py), so pages never
repeat and no page writes to the database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redfed.config import Settings
from redfed.models import Account, FeedConfig, Follow, Note, User
from redfed.services.timelines import explore_newest
from redfed.services.visibility import hidden_account_ids

from . import cursor as paging
from .candidate_rows import CandidateRow, cached_rows, read_rows
from .candidates import NEW_CREATOR_DAYS, SMALL_CREATOR_FOLLOWERS, Retrieved, gather
from .events import seen_note_ids
from .explain import explain
from .profile import InterestProfile, empty_profile, profile_from_interests
from .rerank import rerank
from .signals import load_config, load_profile, ranking_settings
from .types import Candidate, FeedSettings, Reason, Scored

PAGE_SIZE = 20
SEEN_DAYS = 7


@dataclass(frozen=True)
class ExplorePage:
    cards: list[tuple[Note, list[Reason]]]
    next_cursor: str | None


@dataclass(frozen=True)
class _Reader:
    """Who is reading and what Explore's rules need to know about them for one request."""

    viewer_id: int | None
    user: User | None
    languages: Sequence[str]
    hidden: Collection[int]  # blocked either way or muted (services.visibility)
    config: FeedConfig


async def explore_page(
    viewer: Account | None,
    cursor: str | None,
    settings: Settings,
    *,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
    user: User | None = None,
) -> ExplorePage:
    """One page of Explore for `viewer` (None: anonymous, non-personalised). `user` is the
    viewer's User when the caller has it already (the web layer does): one read fewer."""
    # numpy (~10 MB resident) loads with the first Explore page, not at start-up.
    from .scoring import score_candidates  # noqa: PLC0415

    now = now or datetime.now(UTC)
    if viewer is None:
        user = None
    elif user is None or user.account_id != viewer.id:  # type: ignore[attr-defined]
        user = await User.get_or_none(account_id=viewer.id)
    if user is not None and user.feed_mode == "chronological":
        return await _chronological(viewer, cursor)
    viewer_id = viewer.id if viewer is not None else None
    state = paging.decode(cursor, viewer_id)
    config = await load_config(settings)
    fs = ranking_settings(config)
    profile = await _profile(viewer, fs, now)
    weights = profile.weights(now, fs.profile_half_life_days)
    languages = _reader_languages(viewer, weights)
    tag_weights = {k[4:]: w for k, w in weights.items() if k.startswith("tag:")}
    found = await gather(viewer_id, tag_weights, languages, now)
    skip: set[int] = set()
    if viewer is not None:
        skip = await seen_note_ids(viewer.id, now - timedelta(days=SEEN_DAYS))
    reader = _Reader(viewer_id, user, languages, set(await hidden_account_ids(viewer)), config)
    ids = [i for i in found.sources if i not in skip and not state.was_shown(i)]
    # Rank from rows up to a minute old (candidate_rows), then re-read the page's rows live.
    rows = await _allowed(reader, await cached_rows(ids))
    cands = _candidates(rows, found, now)
    scored = score_candidates(profile, cands, fs, now, limit=fs.mmr_pool + 2 * page_size)
    last_authors = {c.author_id for c in cands if state.was_last_author(c.author_id)}
    page = await _live_page(reader, scored, fs, page_size, last_authors)
    picked = [s.candidate.note_id for s in page]
    # The authors joined in (one statement, not a second one for the accounts).
    by_id = {n.id: n for n in await Note.filter(id__in=picked).select_related("account")}
    cards = [(by_id[s.candidate.note_id], explain(s)) for s in page if s.candidate.note_id in by_id]
    state.remember([n.id for n, _ in cards], [n.account_id for n, _ in cards])  # type: ignore[attr-defined]
    return ExplorePage(cards, paging.encode(state) if cards else None)


async def _live_page(
    reader: _Reader,
    scored: list[Scored],
    fs: FeedSettings,
    page_size: int,
    last_authors: set[int],
) -> list[Scored]:
    """Re-rank into a page whose notes pass every rule on their rows as they are now: a note
    changed since its row was kept (made private, author suspended…) makes way for the next."""
    for _attempt in range(3):
        page = _rerank_page(scored, fs, page_size, last_authors)
        picked = [s.candidate.note_id for s in page]
        live = await _allowed(reader, await read_rows(picked, signals=False))
        if len(live) == len(picked):
            return page
        gone = set(picked) - live.keys()
        scored = [s for s in scored if s.candidate.note_id not in gone]
    return [s for s in page if s.candidate.note_id in live]


def _rerank_page(
    scored: list[Scored], fs: FeedSettings, page_size: int, last_authors: set[int]
) -> list[Scored]:
    """A page led by authors the previous page did not show; their notes fill what is left,
    still one per author. On a small server the previous page's authors may be nearly
    everyone: leaving them out altogether made the next page empty and ended Explore."""
    page = rerank(scored, fs, page_size, last_authors)
    if len(page) >= page_size or not last_authors:
        return page
    taken = {s.candidate.note_id for s in page}
    rest = [s for s in scored if s.candidate.note_id not in taken]
    on_page = {s.candidate.author_id for s in page}
    return page + rerank(rest, fs, page_size - len(page), on_page)


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


async def _allowed(reader: _Reader, rows: Mapping[int, CandidateRow]) -> dict[int, CandidateRow]:
    """The rows the reader may see and wants. `rows` already hold only publicly listable
    notes (visibility, suspensions and domain blocks: services.visibility); here the reader's
    blocks and mutes, then Explore's own rules and the admin's remote-author policy."""
    kept = {
        i: r for i, r in rows.items() if r.author_id not in reader.hidden and _wanted(r, reader)
    }
    policy = reader.config.remote_in_explore
    if policy == "none":
        kept = {i: r for i, r in kept.items() if r.local}
    elif policy == "followed":
        followed = await _followed_by_locals({r.author_id for r in kept.values() if not r.local})
        kept = {i: r for i, r in kept.items() if r.local or r.author_id in followed}
    return kept


def _wanted(row: CandidateRow, reader: _Reader) -> bool:
    """Explore's own rules: top-level, discoverable author, not the reader's own, sensitive
    only when asked for, and a language the person reads (unless they auto-translate)."""
    user = reader.user
    if row.is_reply or not row.discoverable or row.author_id == reader.viewer_id:
        return False
    if row.sensitive and not (user is not None and user.show_sensitive):
        return False
    translate = user is not None and user.auto_translate
    if not reader.languages or translate or row.language == "":
        return True
    return row.language in reader.languages


async def _followed_by_locals(author_ids: set[int]) -> set[int]:
    if not author_ids:
        return set()
    rows = await Follow.filter(
        follower__domain__isnull=True, followee_id__in=list(author_ids)
    ).values_list("followee_id", flat=True)
    return {int(i) for i in rows}  # type: ignore[call-overload]


def _candidates(
    rows: Mapping[int, CandidateRow], found: Retrieved, now: datetime
) -> list[Candidate]:
    new_since = now - timedelta(days=NEW_CREATOR_DAYS)
    out = []
    for r in rows.values():
        coeng, via = found.coengagement.get(r.id, (0.0, None))
        out.append(
            Candidate(
                note_id=r.id,
                author_id=r.author_id,
                tags=frozenset(r.tags),
                language=r.language or None,
                published_at=r.published_at,
                engagement=r.engagement,
                author_engagement=r.author_engagement,
                author_is_small_or_new=(
                    r.followers < SMALL_CREATOR_FOLLOWERS or r.author_created_at >= new_since
                ),
                sources=frozenset(found.sources.get(r.id, ())),
                coengagement=coeng,
                trending=found.trending.get(r.id, 0.0),
                via_note_id=via,
            )
        )
    return out
