"""A checker shared by the content tests: is this HTML harmless by our allowlist?"""

from __future__ import annotations

from html.parser import HTMLParser

from redfed.content.sanitize import ALLOWED_TAGS

SAFE_ATTRS = {"href", "class", "rel", "target", "translate", "start", "reversed", "value"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name not in SAFE_ATTRS:
                self.problems.append(f"attr {name} on {tag}")
            if name == "href" and not (value or "").lower().startswith(("http://", "https://")):
                self.problems.append(f"href {value!r}")

    def handle_comment(self, data):
        self.problems.append("comment")

    def handle_decl(self, decl):
        self.problems.append("decl")


def problems(html: str) -> list[str]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.problems
