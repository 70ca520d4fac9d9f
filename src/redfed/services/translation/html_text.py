"""Translating the text nodes of an HTML fragment while keeping its tags and attributes.

Mentions, hashtags, code and `translate="no"` elements are left alone; the output goes through the
project sanitiser again, because model output is untrusted (XSS-05, Mastodon CVE-2023-42452).
"""

from __future__ import annotations

import html as html_lib
from html.parser import HTMLParser
from typing import Protocol

from redfed.content.sanitize import sanitize_html

_SKIP_TAGS = frozenset({"code", "pre", "script", "style"})
_SKIP_CLASSES = frozenset({"mention", "hashtag", "u-url"})
_VOID = frozenset({"br", "img", "hr", "wbr", "input", "meta", "link", "source"})


class TextTranslator(Protocol):
    async def translate_texts(self, texts: list[str], source: str, target: str) -> list[str]: ...


class _Splitter(HTMLParser):
    """Cuts a fragment into raw markup pieces and text nodes (index of translatable ones kept)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.translatable: list[int] = []
        self._skip_stack: list[bool] = []

    def _skipping(self) -> bool:
        return any(self._skip_stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(self.get_starttag_text() or f"<{tag}>")
        if tag in _VOID:
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        skip = tag in _SKIP_TAGS or values.get("translate") == "no" or bool(classes & _SKIP_CLASSES)
        self._skip_stack.append(skip)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(self.get_starttag_text() or f"<{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")
        if tag not in _VOID and self._skip_stack:
            self._skip_stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._skipping():
            self.translatable.append(len(self.parts))
        self.parts.append(
            html_lib.escape(data, quote=False) if not data.strip() or self._skipping() else data
        )


async def translate_html(
    translator: TextTranslator, fragment: str, source: str, target: str
) -> str:
    """Translate each text node of `fragment` (one batch), keep markup, then sanitise."""
    splitter = _Splitter()
    splitter.feed(fragment)
    splitter.close()
    parts = splitter.parts
    texts = [parts[i].strip() for i in splitter.translatable]
    translated = await translator.translate_texts(texts, source, target) if texts else []
    for index, text in zip(splitter.translatable, translated, strict=True):
        original = parts[index]
        lead = original[: len(original) - len(original.lstrip())]
        trail = original[len(original.rstrip()) :]
        parts[index] = lead + html_lib.escape(text, quote=False) + trail
    return sanitize_html("".join(parts))
