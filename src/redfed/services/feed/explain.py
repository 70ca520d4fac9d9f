""" "Why am I seeing this": structured reasons from a scored note's parts, and en/zh wording.

Reasons are data (kind + params) so templates can translate them; `reason_text` is the plain
fallback wording in English and Chinese.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from .types import SOURCE_TRENDING, Reason, ReasonKind, Scored

_MIN_CONTRIBUTION = 0.05  # parts below this did not really put the note on the page
MAX_REASONS = 3

_TEXT: dict[ReasonKind, dict[str, str]] = {
    ReasonKind.INTEREST_TAG: {"en": "You like #{tag}", "zh": "你喜欢 #{tag}"},
    ReasonKind.LIKED_AUTHOR: {"en": "You liked notes by this author", "zh": "你赞过这位作者的笔记"},
    ReasonKind.COENGAGEMENT: {
        "en": "People who liked a note you liked also liked this",
        "zh": "喜欢你所赞笔记的人也喜欢这篇",
    },
    ReasonKind.TRENDING: {"en": "Trending in {language}", "zh": "{language} 热门"},
    ReasonKind.NEW_VOICE: {"en": "A new voice", "zh": "新声音"},
    ReasonKind.POPULAR: {"en": "Popular here", "zh": "本站热门"},
    ReasonKind.LANGUAGE: {"en": "In a language you read", "zh": "你阅读的语言"},
    ReasonKind.FRESH: {"en": "Just posted", "zh": "刚刚发布"},
}


def explain(scored: Scored, max_reasons: int = MAX_REASONS) -> list[Reason]:
    """The strongest positive parts of the score as reasons, strongest first.

    A small or new creator always gets "a new voice": that is why the slot exists.
    """
    c, p = scored.candidate, scored.parts
    ranked: list[tuple[float, Reason]] = []
    if scored.top_tag is not None:
        ranked.append((p.tags, Reason(ReasonKind.INTEREST_TAG, (("tag", scored.top_tag),))))
    via = (("note_id", str(c.via_note_id)),) if c.via_note_id is not None else ()
    ranked.append((p.coengagement, Reason(ReasonKind.COENGAGEMENT, via)))
    ranked.append((p.author, Reason(ReasonKind.LIKED_AUTHOR, (("author_id", str(c.author_id)),))))
    lang = (("language", c.language),) if c.language else ()
    if c.trending > 0 or SOURCE_TRENDING in c.sources:
        # A trending note's popularity is the same recent engagement seen over a week:
        # "trending in 中文" says more than "popular here", so it stands for both.
        ranked.append((p.trending + p.popularity, Reason(ReasonKind.TRENDING, lang)))
    else:
        ranked.append((p.popularity, Reason(ReasonKind.POPULAR)))
    ranked.append((p.language, Reason(ReasonKind.LANGUAGE, lang)))
    ranked.append((p.freshness, Reason(ReasonKind.FRESH)))
    ranked.sort(key=lambda pair: -pair[0])
    reasons = [r for value, r in ranked if value >= _MIN_CONTRIBUTION]
    if c.author_is_small_or_new:
        reasons.insert(0, Reason(ReasonKind.NEW_VOICE))
    return reasons[:max_reasons] or [Reason(ReasonKind.FRESH)]


def reason_text(reason: Reason, locale: str = "en") -> str:
    """Plain wording of a reason; `zh*` locales get Chinese, anything else English."""
    lang = "zh" if locale.lower().startswith("zh") else "en"
    template = _TEXT[reason.kind][lang]
    params = dict(reason.params)
    params.setdefault("tag", "")
    params["language"] = language_name(params.get("language", ""), lang)
    return template.format(**params)


def language_name(code: str, locale: str) -> str:
    """ "zh" -> "中文" in Chinese, "Chinese" in English; unknown codes are shown as they are."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    return name or code
