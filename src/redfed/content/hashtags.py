"""Hashtags: finding `#tags` in plain text (any script: `#旅行`, `#café`, `#travel_tips`)
and normalising tag names to the one form used for storage, lookup and URLs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_TAG_LENGTH = 100
# RES-04: a note or remote object with thousands of tags is truncated to this many.
# 30 is Instagram's per-post limit, generous for lifestyle notes.
MAX_TAGS = 30

# `\w` covers letters and digits of every script (CJK included) and `_`, but not combining
# marks, so decomposed accents and Indic/Thai vowel signs are listed explicitly.
# `·` is allowed inside tags as Mastodon does (Catalan "#l·lusió").
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
_MARKS += "\u0900-\u0dff\u0e00-\u0eff\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
TAG_CHARS = rf"[\w{_MARKS}·]"

# A tag starts after a non-word character (so `page#anchor`, `a/#b`, `&#39;` are not tags).
# The fullwidth `＃` is accepted as CJK keyboards type it.
HASHTAG_RE = re.compile(rf"(?<![\w/#＃&@{_MARKS}])[#＃]({TAG_CHARS}+)")
_VALID_RE = re.compile(rf"{TAG_CHARS}+")


def _trim(raw: str) -> str:
    return raw.strip("·")


def normalize_tag(name: str) -> str | None:
    """The canonical form of a tag name (NFKC, casefolded), or None when it is not a valid tag.

    Accepts a leading `#`. Pure numbers (`#1`, issue numbers) and names over 100 characters
    are not tags.
    """
    name = unicodedata.normalize("NFKC", name.strip()).lstrip("#")
    name = unicodedata.normalize("NFKC", name.casefold())
    name = _trim(name)
    if not name or len(name) > MAX_TAG_LENGTH or not _VALID_RE.fullmatch(name):
        return None
    if not any(ch.isalpha() for ch in name):
        return None
    return name


def normalize_tags(names: Iterable[str], *, limit: int = MAX_TAGS) -> list[str]:
    """Normalised, deduplicated (first occurrence wins) and capped tag names."""
    seen: dict[str, None] = {}
    for raw in names:
        tag = normalize_tag(raw)
        if tag is not None and tag not in seen:
            seen[tag] = None
            if len(seen) >= limit:
                break
    return list(seen)


def find_hashtags(text: str) -> Iterable[re.Match[str]]:
    """Matches of `#tag` in plain text; group 1 is the tag as typed (not normalised)."""
    return HASHTAG_RE.finditer(text)


def extract_hashtags(text: str, *, limit: int = MAX_TAGS) -> list[str]:
    """Normalised tags of a plain text, in order of first appearance, at most `limit`."""
    return normalize_tags((_trim(m.group(1)) for m in find_hashtags(text)), limit=limit)
