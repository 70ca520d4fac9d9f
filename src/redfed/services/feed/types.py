"""Plain data of the interest feed: candidates, scored candidates, reasons and settings.

Everything here is a frozen dataclass so the pure ranking functions can be fed from SQL rows,
from a benchmark, or from a test without any database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# Retrieval paths that can find a candidate (Candidate.sources holds some of them).
SOURCE_INTEREST = "interest"
SOURCE_NEIGHBOURS = "neighbours"
SOURCE_TRENDING = "trending"
SOURCE_NEW_CREATOR = "new_creator"
SOURCE_FOLLOWING = "following"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One note that a retrieval path found for one viewer, with the signals scoring needs."""

    note_id: int
    author_id: int
    tags: frozenset[str]
    language: str | None
    published_at: datetime
    engagement: float = 0.0  # decayed local engagement of the note
    author_engagement: float = 0.0  # the author's reach: engagement decayed over months (damping)
    author_is_small_or_new: bool = False
    sources: frozenset[str] = frozenset()
    coengagement: float = 0.0  # sum of neighbour weights from the viewer's recent likes
    trending: float = 0.0  # trending score in the note's language (0 when not trending)
    via_note_id: int | None = None  # the liked note that made it a neighbour (for "why")


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """Each term's contribution to the linear score, already multiplied by its weight."""

    coengagement: float = 0.0
    tags: float = 0.0
    author: float = 0.0
    popularity: float = 0.0
    language: float = 0.0
    freshness: float = 0.0
    trending: float = 0.0

    def total(self) -> float:
        return (
            self.coengagement
            + self.tags
            + self.author
            + self.popularity
            + self.language
            + self.freshness
            + self.trending
        )


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate with its score, the parts of the score, and the tag that helped most."""

    candidate: Candidate
    score: float
    parts: ScoreParts
    top_tag: str | None = None


class ReasonKind(StrEnum):
    INTEREST_TAG = "interest_tag"  # params: tag
    LIKED_AUTHOR = "liked_author"  # params: author_id
    COENGAGEMENT = "coengagement"  # params: note_id (may be absent)
    TRENDING = "trending"  # params: language
    NEW_VOICE = "new_voice"
    POPULAR = "popular"
    LANGUAGE = "language"  # params: language
    FRESH = "fresh"


@dataclass(frozen=True, slots=True)
class Reason:
    """A structured "why am I seeing this": a kind and string params, translated by the UI."""

    kind: ReasonKind
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        return dict(self.params).get(name)


class FeedEvent(StrEnum):
    """Local engagement events that move an interest profile."""

    IMPRESSION = "impression"
    OPEN = "open"
    DWELL = "dwell"
    LIKE = "like"
    COLLECT = "collect"
    COMMENT = "comment"
    SHARE = "share"
    FOLLOW = "follow"
    NOT_INTERESTED = "not_interested"
    SHOW_FEWER_FROM_AUTHOR = "show_fewer_from_author"
    REPORT = "report"


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Weights and knobs of ranking; defaults tuned with bench/feed_eval.py (bench/README.md)."""

    # Linear score weights. Tag affinity and co-engagement are scaled to [-1, 1] per request,
    # popularity to [0, 1] against the busiest note of the server (see scoring).
    # Co-engagement carries the accuracy and spreads exposure; popularity breaks its ties
    # towards what is hot (bench/README.md: window-1 grid).
    w_coengagement: float = 3.0
    w_tags: float = 1.0
    w_author: float = 0.5
    w_popularity: float = 2.0
    w_language: float = 0.3
    w_freshness: float = 0.3
    w_trending: float = 0.3
    # Author damping: engagement terms / (1 + author_engagement / median author) ** alpha.
    # 0 = none, 1 = strong. With the long-horizon author signal below, .5 cuts the top-1 %
    # authors' share of the first ten cards from ~.26 to ~.10 and lifts coverage 1.6× (it also
    # raised NDCG on the tuning windows, −.011 on the reported ones; bench/README.md).
    alpha: float = 0.5
    # Decay of the stored signals (applied by the maintenance jobs): co-engagement pairs and
    # per-note / per-author engagement.
    # Neighbours: "liked together lately" predicts the next likes far better than pairs formed
    # months ago (no decay → 14 d → 7 d: +.05–.06 NDCG). 7 d ties 3 d for people with a history and
    # serves newcomers better (+.03 NDCG cold on both tuning windows): on a small server a
    # 3-day half-life also leaves a quiet week's likes with almost no neighbours.
    neighbour_half_life_days: float = 7.0
    engagement_half_life_days: float = 7.0
    # The author signal that damping divides by decays far slower than a note's engagement: it
    # measures an author's established reach (the "influencer"), not this week's buzz. Damping
    # by the 7-day signal cancelled the popularity term exactly where it is right (a new hit
    # by anyone): at α .5 window 1 fell to .10 NDCG, against .18 with this signal, which damps
    # the accounts that dominate over months (bench/README.md).
    author_half_life_days: float = 180.0
    freshness_half_life_hours: float = 72.0
    # Re-rank. λ .75 (the reference design's value); .5 cost .004–.005 NDCG on both tuning
    # windows for about the same coverage and top-1 share.
    mmr_lambda: float = 0.75
    mmr_pool: int = 200  # only the best N by score enter the greedy MMR
    # 40 % of the page for small or new creators (RedNote aims at over half of traffic to
    # creators under 1,000 followers; .5 cost .01 NDCG more); bench/README.md has the trade-off.
    new_creator_share: float = 0.4
    # Interest profile.
    profile_half_life_days: float = 21.0
    profile_max_keys: int = 300
    signup_interest_weight: float = 2.0
    event_weights: tuple[tuple[FeedEvent, float], ...] = field(
        default=(
            (FeedEvent.OPEN, 0.3),
            (FeedEvent.DWELL, 0.5),
            (FeedEvent.LIKE, 1.0),
            (FeedEvent.COLLECT, 2.0),
            (FeedEvent.COMMENT, 2.0),
            (FeedEvent.SHARE, 1.5),
            (FeedEvent.FOLLOW, 3.0),
            # "Not interested" weighs about three likes against the note's tags; the reference
            # rankers weigh explicit negative feedback far above a like.
            (FeedEvent.NOT_INTERESTED, -3.0),
            (FeedEvent.SHOW_FEWER_FROM_AUTHOR, -5.0),
            (FeedEvent.REPORT, -6.0),
        )
    )

    def event_weight(self, event: FeedEvent) -> float:
        return dict(self.event_weights).get(event, 0.0)
