"""Handles (`@user@host`, `acct:user@host`) and hosts in one canonical form (ORI-05).

Canonical host: lower case, IDNA (punycode), no trailing dot, `:443` dropped. Anything that
could smuggle a path or another authority (`/`, `%`, `@`, `\\`, spaces) is refused, never fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import idna

from redfed.errors import BadRequest


class InvalidHandle(BadRequest):
    public_message = "That is not a valid handle."


_FORBIDDEN = set("/\\%@?#[] \t\r\n\x00,;")
_USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


@dataclass(frozen=True)
class Handle:
    """A parsed handle. Usernames keep their case (peers differ); hosts are canonical."""

    username: str
    host: str

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.host}"

    @property
    def resource(self) -> str:
        """The WebFinger `resource` value."""
        return f"acct:{self.acct}"

    def __str__(self) -> str:
        return f"@{self.acct}"

    def same_as(self, other: Handle) -> bool:
        """Equal up to username case (Mastodon, GoToSocial and Misskey match usernames so)."""
        return self.host == other.host and self.username.casefold() == other.username.casefold()


def parse_handle(text: str) -> Handle:
    """`@alice@Example.COM.`, `alice@example.com` or `acct:alice@example.com` -> Handle."""
    if not isinstance(text, str) or len(text) > 400:
        raise InvalidHandle(detail="handle missing or too long")
    value = text.strip()
    if value.lower().startswith("acct:"):
        value = value[5:]
    value = value.removeprefix("@")
    username, sep, host = value.partition("@")
    if not sep or not _USERNAME.match(username):
        raise InvalidHandle(detail=f"bad username in {text[:100]!r}")
    return Handle(username, normalize_host(host))


def normalize_host(host: str) -> str:
    """The canonical form of a host, optionally with a non-default port; raises InvalidHandle."""
    if not host or len(host) > 300 or any(c in _FORBIDDEN for c in host):
        raise InvalidHandle(detail=f"bad host {host[:100]!r}")
    name, sep, port = host.rpartition(":") if ":" in host else (host, "", "")
    if sep and (not port.isdigit() or not 0 < int(port) < 65536 or port.startswith("0")):
        raise InvalidHandle(detail=f"bad port in {host[:100]!r}")
    name = name[:-1] if name.endswith(".") else name
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidHandle(detail=f"bad host {host[:100]!r}") from exc
    labels = ascii_name.lower().split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise InvalidHandle(detail=f"bad host {host[:100]!r}")
    canonical = ".".join(labels)
    return canonical if not sep or port == "443" else f"{canonical}:{port}"
