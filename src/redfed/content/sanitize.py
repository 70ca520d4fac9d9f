"""Remote and generated HTML sanitising: the one home of nh3 (Mastodon's strict allowlist),
link-host honesty (XSS-07) and HTML → plain text.
"""

from __future__ import annotations

import html
import logging
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

log = logging.getLogger(__name__)

# Bigger inputs are truncated before parsing: keeps hostile input (10,000 nested tags,
# megabytes of markup) bounded in time (XSS-08). Mastodon notes are far smaller.
MAX_INPUT_CHARS = 100_000

ALLOWED_TAGS = frozenset(
    "p br span a del s pre blockquote code b strong u i em ul ol li ruby rt rp".split()
)
_ATTRIBUTES: dict[str, set[str]] = {
    "*": set(),  # nh3 otherwise allows `lang` and `title` everywhere
    "a": {"href", "class", "translate"},
    "span": {"class", "translate"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
_EXACT_CLASSES = frozenset({"mention", "hashtag", "invisible", "ellipsis"})
_PREFIXED_CLASS = re.compile(r"(?:h|u|p|dt|e)-[a-z0-9][a-z0-9-]*")  # microformats2
LINK_REL = "nofollow noopener noreferrer"


def _is_allowed_class(name: str) -> bool:
    return name in _EXACT_CLASSES or _PREFIXED_CLASS.fullmatch(name) is not None


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        kept = [c for c in value.split() if _is_allowed_class(c)]
        return " ".join(kept) or None
    if attribute in ("start", "value"):
        return value if re.fullmatch(r"-?\d{1,9}", value.strip()) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style", "template", "noscript", "iframe", "object"},
    attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel=LINK_REL,
    url_schemes={"http", "https"},
    set_tag_attribute_values={"a": {"target": "_blank"}},
    # Relative hrefs mean nothing in federated content (they would point at *our* host).
    url_relative="deny",
)


def _clean(html_text: str) -> str:
    text = html_text[:MAX_INPUT_CHARS]
    # Lone surrogates (from JSON "\ud800") would make nh3 raise on UTF-8 encoding.
    text = text.encode("utf-8", "replace").decode("utf-8")
    try:
        return _CLEANER.clean(text)
    except Exception:  # never fail a whole activity because of its markup
        log.warning("sanitize.failed chars=%d", len(text))
        return html.escape(text)


def sanitize_html(html_text: str) -> str:
    """Sanitise untrusted HTML (remote content, translations, our own composed text).

    Only Mastodon's strict tag list survives; hrefs are http(s) only; classes are allowlisted;
    every link gets `rel="nofollow noopener noreferrer" target="_blank"`. A link whose text
    (visible or hidden) names another host than its href is rewritten to show its whole text
    followed by the real host in brackets (XSS-07, Mastodon CVE-2023-36462). Never raises.
    """
    if not html_text:
        return ""
    cleaned = _clean(html_text)
    if "<a " not in cleaned:
        return cleaned
    rewritten = _LinkHonesty.rewrite(cleaned)
    return cleaned if rewritten is None else _clean(rewritten)


# --- XSS-07: link text must not claim another host ------------------------------------

_TRIM = "()[]<>\"'.,;:!?…«»“”‘’"
_HOSTLIKE = re.compile(r"(?:[\w-]+\.)+[a-z][\w-]*\.?(?::\d+)?(?:[/?#]\S*)?", re.IGNORECASE)


def _norm_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return host.removeprefix("www.")


def _claimed_hosts(text: str) -> list[str]:
    """Hosts that words of `text` look like (`bank.example`, `https://bank.example/x`)."""
    hosts = []
    for word in text.split():
        word = word.strip(_TRIM)
        if not word or word[0] in "@#":
            continue  # mentions and hashtags name accounts/tags, not the link's host
        try:
            if "://" in word:
                host = urlsplit(word).hostname
            elif _HOSTLIKE.fullmatch(word):
                host = urlsplit("//" + word).hostname
            else:
                continue
        except ValueError:
            continue
        if host:
            hosts.append(_norm_host(host))
    return hosts


def _host_mismatch(text: str, href: str) -> str | None:
    """The real host when `text` claims a different one, else None."""
    try:
        real = urlsplit(href).hostname or ""
    except ValueError:
        return None
    norm_real = _norm_host(real)
    for claimed in _claimed_hosts(text):
        if claimed != norm_real and not norm_real.endswith("." + claimed):
            return real
    return None


def _start_tag(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    parts = [tag]
    for name, value in attrs:
        parts.append(name if value is None else f'{name}="{html.escape(value, quote=True)}"')
    return "<" + " ".join(parts) + ">"


class _Anchor:
    def __init__(self, start: str, href: str) -> None:
        self.start, self.href = start, href
        self.tokens: list[str] = []
        self.full: list[str] = []
        self.visible: list[str] = []


class _LinkHonesty(HTMLParser):
    """Re-serialises already-sanitised HTML, rewriting links whose text claims another host.

    It only ever reads nh3 output (balanced, quoted, escaped), so the stdlib parser sees the
    same tree a browser would; the result is passed through nh3 again anyway.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.anchors: list[_Anchor] = []
        self.elements: list[tuple[str, bool]] = []
        self.changed = False

    @classmethod
    def rewrite(cls, cleaned: str) -> str | None:
        parser = cls()
        parser.feed(cleaned)
        parser.close()
        while parser.anchors:  # unbalanced input: close what is open
            parser._close_anchor()
        return "".join(parser.out) if parser.changed else None

    def _emit(self, text: str) -> None:
        (self.anchors[-1].tokens if self.anchors else self.out).append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        hidden = bool(self.elements and self.elements[-1][1])
        classes = (dict(attrs).get("class") or "").split()
        hidden = hidden or "invisible" in classes
        if tag == "a":
            self.anchors.append(_Anchor(_start_tag(tag, attrs), dict(attrs).get("href") or ""))
        else:
            self._emit(_start_tag(tag, attrs))
        if tag != "br":
            self.elements.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        if not any(name == tag for name, _ in self.elements):
            return
        while self.elements:
            name, _ = self.elements.pop()
            if name == "a" and self.anchors:
                self._close_anchor()
            elif name != "a":
                self._emit(f"</{name}>")
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        self._emit(html.escape(data, quote=False))
        hidden = bool(self.elements and self.elements[-1][1])
        for anchor in self.anchors:
            anchor.full.append(data)
            if not hidden:
                anchor.visible.append(data)

    def _close_anchor(self) -> None:
        anchor = self.anchors.pop()
        full, visible = "".join(anchor.full), "".join(anchor.visible)
        real = _host_mismatch(visible, anchor.href) or _host_mismatch(full, anchor.href)
        # What a reader sees of the link: a link hidden as a whole shows nothing, so its text
        # stands for itself (else its own "[host]" would be added again on every pass).
        shown = visible if visible.strip() else full
        if real is None or (shown == full and full.strip().endswith(f"[{real}]")):
            # Honest, or already showing its real host (keeps sanitising idempotent).
            self._emit(anchor.start + "".join(anchor.tokens) + "</a>")
            return
        self.changed = True
        log.info("sanitize.link_host_mismatch host=%s", real)
        self._emit(f"{anchor.start}{html.escape(full.strip())} [{html.escape(real)}]</a>")


# --- plain text ---------------------------------------------------------------------------

_BLOCKS = frozenset({"p", "blockquote", "pre", "ul", "ol", "li"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html_text: str) -> str:
    """Text of (untrusted) HTML: paragraphs as blank lines, `<br>` as newlines, entities decoded.

    The result is *text*, not HTML: escape it wherever it is shown. Hidden link parts
    (`invisible` spans) are kept so URLs come out whole. Never raises.
    """
    cleaned = _clean(html_text) if html_text else ""
    extractor = _TextExtractor()
    extractor.feed(cleaned)
    extractor.close()
    text = "".join(extractor.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
