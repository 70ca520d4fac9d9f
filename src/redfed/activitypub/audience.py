"""Visibility <-> AS2 addressing (to/cc), the way Mastodon does it, both directions.

public: to Public, cc followers + mentions; unlisted: to followers, cc Public + mentions;
followers: to followers, cc mentions; direct: to mentions only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from redfed.activitypub.vocab import PUBLIC, is_public


@dataclass(frozen=True)
class Audience:
    to: list[str]
    cc: list[str]


def audience_for(visibility: str, followers: str, mentions: Sequence[str] = ()) -> Audience:
    """The to/cc of a note (or its Create/Update/Delete) with this visibility."""
    mentioned = _unique(mentions)
    if visibility == "public":
        return Audience(to=[PUBLIC], cc=_unique([followers, *mentioned]))
    if visibility == "unlisted":
        return Audience(to=[followers], cc=_unique([PUBLIC, *mentioned]))
    if visibility == "followers":
        return Audience(to=[followers], cc=mentioned)
    if visibility == "direct":
        return Audience(to=mentioned, cc=[])
    raise ValueError(f"unknown visibility {visibility!r}")


def visibility_from_audience(to: Iterable[str], cc: Iterable[str], followers_uri: str) -> str:
    """The inverse, for notes we receive: Public in `to` is public, in `cc` unlisted;
    the author's followers collection makes it followers-only; anything else is direct."""
    to_list, cc_list = list(to), list(cc)
    if any(is_public(a) for a in to_list):
        return "public"
    if any(is_public(a) for a in cc_list):
        return "unlisted"
    if followers_uri and followers_uri in (*to_list, *cc_list):
        return "followers"
    return "direct"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))
