"""Interest profile maths: weights over `tag:…`, `lang:…`, `author:…` keys, decayed lazily.

Each key keeps (weight, time of last change); reading it at `now` gives w · 2^(−Δt/H), so no job
has to rewrite every profile to make it decay. Updates return a new profile (it is plain data).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from .types import FeedEvent, FeedSettings

_DAY = 86400.0
_NEGLIGIBLE = 1e-3  # weights smaller than this are dropped instead of stored
# Share of an event's weight that goes to the author and to the language of the note.
_AUTHOR_SHARE = 0.5
_LANGUAGE_SHARE = 0.3


def tag_key(tag: str) -> str:
    return "tag:" + tag.lower()


def lang_key(language: str) -> str:
    return "lang:" + language.lower()


def author_key(author_id: int) -> str:
    return f"author:{author_id}"


@dataclass(frozen=True, slots=True)
class InterestProfile:
    """Weights by key, each stored as (weight, unix time it was last written). Read-only."""

    entries: Mapping[str, tuple[float, float]] = field(default_factory=lambda: MappingProxyType({}))

    def weight(self, key: str, now: datetime, half_life_days: float) -> float:
        entry = self.entries.get(key)
        if entry is None:
            return 0.0
        return _decay(entry, now.timestamp(), half_life_days)

    def weights(self, now: datetime, half_life_days: float) -> dict[str, float]:
        """All weights decayed to `now` (what scoring and the "your interests" page read)."""
        t = now.timestamp()
        return {key: _decay(entry, t, half_life_days) for key, entry in self.entries.items()}

    def __len__(self) -> int:
        return len(self.entries)


def _decay(entry: tuple[float, float], t: float, half_life_days: float) -> float:
    w, at = entry
    dt = max(0.0, t - at)
    return float(w * 2.0 ** (-dt / (half_life_days * _DAY)))


def empty_profile() -> InterestProfile:
    """A reset profile: the person keeps nothing."""
    return InterestProfile()


def profile_from_interests(
    tags: Iterable[str], languages: Iterable[str], now: datetime, settings: FeedSettings
) -> InterestProfile:
    """The cold-start profile: the interests and languages a person picked at sign-up."""
    t = now.timestamp()
    w = settings.signup_interest_weight
    entries = {tag_key(tag): (w, t) for tag in tags}
    entries.update({lang_key(lang): (w, t) for lang in languages})
    return _finish(entries, t, settings)


def add_weights(
    profile: InterestProfile, deltas: Mapping[str, float], now: datetime, settings: FeedSettings
) -> InterestProfile:
    """Decay the touched keys to `now`, add the deltas, and keep the profile within its cap."""
    t = now.timestamp()
    h = settings.profile_half_life_days
    entries = dict(profile.entries)
    for key, delta in deltas.items():
        old = entries.get(key)
        value = (_decay(old, t, h) if old is not None else 0.0) + delta
        if abs(value) < _NEGLIGIBLE:
            entries.pop(key, None)
        else:
            entries[key] = (value, t)
    return _finish(entries, t, settings)


def set_interest(
    profile: InterestProfile, key: str, weight: float, now: datetime, settings: FeedSettings
) -> InterestProfile:
    """The person edits one interest by hand (0 removes it)."""
    entries = dict(profile.entries)
    if abs(weight) < _NEGLIGIBLE:
        entries.pop(key, None)
    else:
        entries[key] = (weight, now.timestamp())
    return _finish(entries, now.timestamp(), settings)


def event_deltas(
    event: FeedEvent,
    *,
    tags: Iterable[str],
    author_id: int | None,
    language: str | None,
    settings: FeedSettings,
    dwell_seconds: float = 0.0,
) -> dict[str, float]:
    """What one engagement event adds to which keys."""
    w = settings.event_weight(event)
    if event is FeedEvent.DWELL:
        # Thirty seconds on a note counts as one dwell; cap it so an idle tab is not a love letter.
        w *= min(max(dwell_seconds, 0.0) / 30.0, 2.0)
    if w == 0.0:
        return {}
    if event is FeedEvent.SHOW_FEWER_FROM_AUTHOR or event is FeedEvent.FOLLOW:
        return {author_key(author_id): w} if author_id is not None else {}
    deltas = {tag_key(tag): w for tag in tags}
    if author_id is not None:
        if w > 0 or event is FeedEvent.REPORT:
            deltas[author_key(author_id)] = w * (_AUTHOR_SHARE if w > 0 else 1.0)
    if language and w > 0:
        # Disliking one note says nothing against its language, so only positives count.
        deltas[lang_key(language)] = w * _LANGUAGE_SHARE
    return deltas


def apply_event(
    profile: InterestProfile,
    event: FeedEvent,
    *,
    tags: Iterable[str],
    author_id: int | None,
    language: str | None,
    now: datetime,
    settings: FeedSettings,
    dwell_seconds: float = 0.0,
) -> InterestProfile:
    """The profile after one event (like, collect, comment, open, dwell, not interested, …)."""
    deltas = event_deltas(
        event,
        tags=tags,
        author_id=author_id,
        language=language,
        settings=settings,
        dwell_seconds=dwell_seconds,
    )
    if not deltas:
        return profile
    return add_weights(profile, deltas, now, settings)


def _finish(
    entries: dict[str, tuple[float, float]], t: float, settings: FeedSettings
) -> InterestProfile:
    cap = settings.profile_max_keys
    if len(entries) > cap:
        # Keep the strongest by magnitude: a strong negative ("not interested") must survive.
        # Trim to 90 % of the cap so the sort runs once per many events, not on every one.
        h = settings.profile_half_life_days
        ranked = sorted(entries.items(), key=lambda kv: abs(_decay(kv[1], t, h)), reverse=True)
        entries = dict(ranked[: max(1, int(cap * 0.9))])
    return InterestProfile(MappingProxyType(entries))


def profile_to_json(profile: InterestProfile) -> dict[str, list[float]]:
    """A JSON-friendly form for storing a profile in one database column."""
    return {k: [w, at] for k, (w, at) in profile.entries.items()}


def profile_from_json(data: Mapping[str, list[float]]) -> InterestProfile:
    entries = {
        str(k): (float(v[0]), float(v[1]))
        for k, v in data.items()
        if len(v) == 2 and all(math.isfinite(float(x)) for x in v)
    }
    return InterestProfile(MappingProxyType(entries))
