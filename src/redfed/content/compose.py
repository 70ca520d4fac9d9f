"""Plain text (notes, bios) → safe HTML: paragraphs, line breaks, autolinked URLs,
hashtag and mention links; returns the tags and resolved mentions found on the way.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from redfed.content.hashtags import HASHTAG_RE, MAX_TAGS, normalize_tag
from redfed.content.sanitize import sanitize_html

# RES-03: at most this many distinct mentions are resolved (and linked) per text.
MAX_MENTIONS = 50
# Shown characters of a long URL; the rest is kept in an `invisible` span (Mastodon markup).
URL_DISPLAY_CHARS = 30

_URL = r"(?P<url>https?://[^\s<>\"\u3000-\u303f\uff08\uff09\uff0c\uff01\uff1f\uff1b\uff1a]+)"
_MENTION = (
    r"(?<![\w/@.])@(?P<user>[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?)"
    r"(?:@(?P<domain>[\w-]+(?:\.[\w-]+)+))?"
)
_TOKEN_RE = re.compile(
    "|".join([_URL, _MENTION, "(?P<tag>" + HASHTAG_RE.pattern + ")"]), re.IGNORECASE
)
_TRAILING_PUNCT = ".,;:!?'\""

TagUrl = Callable[[str], str]
MentionResolver = Callable[[str, "str | None"], "str | None"]


@dataclass(frozen=True)
class ComposedText:
    html: str
    tags: list[str]  # normalised, deduplicated, capped (see hashtags.MAX_TAGS)
    mentions: list[tuple[str, str | None]]  # (user, domain or None) that the resolver resolved


def _trim_url(url: str) -> str:
    """Drop trailing punctuation and a closing parenthesis that the URL did not open."""
    while url:
        if url[-1] in _TRAILING_PUNCT:
            url = url[:-1]
        elif url[-1] == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        else:
            break
    return url


def _url_html(url: str) -> str:
    scheme = re.match(r"https?://(?:www\.)?", url, re.IGNORECASE)
    prefix = scheme.group(0) if scheme else ""
    rest = url[len(prefix) :]
    shown, hidden = rest[:URL_DISPLAY_CHARS], rest[URL_DISPLAY_CHARS:]
    esc = html.escape
    parts = [f'<a href="{esc(url)}" rel="nofollow noopener" target="_blank">']
    parts.append(f'<span class="invisible">{esc(prefix)}</span>')
    if hidden:
        parts.append(f'<span class="ellipsis">{esc(shown)}</span>')
        parts.append(f'<span class="invisible">{esc(hidden)}</span>')
    else:
        parts.append(f"<span>{esc(shown)}</span>")
    return "".join(parts) + "</a>"


class _Renderer:
    def __init__(self, tag_url: TagUrl, mention_resolver: MentionResolver) -> None:
        self.tag_url, self.resolver = tag_url, mention_resolver
        self.tags: list[str] = []
        self.mentions: dict[tuple[str, str | None], str | None] = {}

    def paragraph(self, text: str) -> str:
        out, pos = [], 0
        for match in _TOKEN_RE.finditer(text):
            linked, end = self._token(match)
            if linked is None:
                continue
            out.append(_text_html(text[pos : match.start()]))
            out.append(linked)
            pos = end
        out.append(_text_html(text[pos:]))
        return "<p>" + "".join(out) + "</p>"

    def _token(self, match: re.Match[str]) -> tuple[str | None, int]:
        if match.group("url"):
            url = _trim_url(match.group("url"))
            if not re.match(r"https?://[^/?#]", url, re.IGNORECASE):
                return None, 0  # a bare "https://" links nowhere
            return _url_html(url), match.start() + len(url)
        if match.group("user"):
            return self._mention(match.group("user"), match.group("domain")), match.end()
        return self._hashtag(match.group("tag")[1:]), match.end()

    def _hashtag(self, raw: str) -> str | None:
        raw = raw.rstrip("·")
        tag = normalize_tag(raw)
        if tag is None:
            return None
        if tag not in self.tags:
            if len(self.tags) >= MAX_TAGS:
                return None
            self.tags.append(tag)
        href = html.escape(self.tag_url(tag))
        shown = html.escape(raw)
        return f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{shown}</span></a>'

    def _mention(self, user: str, domain: str | None) -> str | None:
        key = (user, domain.lower() if domain else None)
        if key not in self.mentions:
            if len(self.mentions) >= MAX_MENTIONS:
                return None
            self.mentions[key] = self.resolver(*key)
        url = self.mentions[key]
        if url is None:
            return None
        return (
            f'<span class="h-card" translate="no"><a href="{html.escape(url)}" '
            f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
        )


def _text_html(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br>")


def compose_note_html(
    text: str, *, tag_url: TagUrl, mention_resolver: MentionResolver
) -> ComposedText:
    """Turn what a person typed into sanitised HTML (also used for bios).

    Blank lines separate paragraphs, single newlines become `<br>`; http(s) URLs, `#tags`
    and `@user` / `@user@domain` become links. `tag_url(tag)` gives a tag page URL;
    `mention_resolver(user, domain)` gives a profile URL or None (then the text stays plain).
    Callers cap the text length; the HTML is passed through `sanitize_html`.
    """
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    renderer = _Renderer(tag_url, mention_resolver)
    paragraphs = [p.strip("\n") for p in re.split(r"\n[ \t]*\n\s*", normalised) if p.strip()]
    body = "".join(renderer.paragraph(p) for p in paragraphs)
    mentions = [key for key, url in renderer.mentions.items() if url is not None]
    return ComposedText(html=sanitize_html(body), tags=renderer.tags, mentions=mentions)
