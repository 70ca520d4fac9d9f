"""JSON-LD-lite for incoming AS2: accept the compact shapes peers send, refuse the tricky ones.

We never run a JSON-LD processor: terms are read by their compact names. So a document whose
`@context` redefines a core term (ORI-10), or that uses `@graph`/`@reverse`/`@included`
(ORI-09), is refused instead of being "interpreted". LD signatures are never a credential.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redfed.activitypub.vocab import AS_NS, PUBLIC, PUBLIC_ALIASES
from redfed.errors import BadRequest


class InvalidActivity(BadRequest):
    public_message = "The activity is not valid."


# Terms whose meaning identity and addressing checks rely on: a context may not remap them.
CORE_TERMS = frozenset(
    {
        "id",
        "type",
        "actor",
        "object",
        "target",
        "to",
        "cc",
        "bto",
        "bcc",
        "audience",
        "attributedTo",
        "inReplyTo",
        "publicKey",
        "owner",
        "publicKeyPem",
        "inbox",
        "outbox",
        "followers",
        "following",
        "endpoints",
        "sharedInbox",
        "content",
        "url",
        "tag",
        "href",
    }
)
FORBIDDEN_KEYWORDS = frozenset({"@graph", "@reverse", "@included"})
MAX_ID_CHARS = 512


def check_document(doc: dict[str, Any]) -> None:
    """Raise InvalidActivity for a context redefining core terms or JSON-LD graph keywords."""
    _check_context(doc.get("@context"))
    stack: list[Any] = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            bad = FORBIDDEN_KEYWORDS.intersection(value)
            if bad:
                raise InvalidActivity(detail=f"JSON-LD keyword {sorted(bad)[0]} refused (ORI-09)")
            stack.extend(v for k, v in value.items() if k != "@context")
        elif isinstance(value, list):
            stack.extend(value)


def _check_context(context: Any) -> None:
    for entry in as_list(context):
        if isinstance(entry, str) or entry is None:
            continue  # remote context URLs are never fetched; only the names below matter
        if not isinstance(entry, dict):
            raise InvalidActivity(detail="unusable @context entry")
        for term, meaning in entry.items():
            if term in CORE_TERMS or term.startswith("@") and term not in ("@vocab", "@language"):
                raise InvalidActivity(detail=f"@context redefines {term[:40]} (ORI-10)")
            if term == "@vocab" and meaning not in (AS_NS, AS_NS + "#"):
                raise InvalidActivity(detail="@context changes @vocab (ORI-10)")


def as_list(value: Any) -> list[Any]:
    """AS2 allows one value or an array for most properties."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def id_of(value: Any) -> str | None:
    """The id of a reference given as a bare id, an embedded object or a one-element array."""
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if isinstance(value, str):
        return value if _plausible_id(value) else None
    if isinstance(value, dict):
        found = value.get("id")
        return found if isinstance(found, str) and _plausible_id(found) else None
    return None


def ids_of(value: Any, *, limit: int) -> list[str]:
    """Ids from a list of references, at most `limit` of them (RES-03)."""
    out: list[str] = []
    for item in as_list(value):
        found = id_of(item)
        if found is not None:
            out.append(PUBLIC if found in PUBLIC_ALIASES else found)
        if len(out) >= limit:
            break
    return out


def _plausible_id(value: str) -> bool:
    if value in PUBLIC_ALIASES:
        return True
    return len(value) <= MAX_ID_CHARS and value.startswith(("https://", "http://"))


def first_type(doc: Any) -> str:
    """`type` as one string: Misskey and JSON-LD tools may send a list."""
    if not isinstance(doc, dict):
        return ""
    for value in as_list(doc.get("type")):
        if isinstance(value, str):
            return value.removeprefix("as:")
    return ""


def text(value: Any, *, limit: int) -> str:
    """A string property, cut to `limit` characters (RES-04); anything else is ""."""
    return value[:limit] if isinstance(value, str) else ""


def first_map_entry(value: Any, *, limit: int) -> tuple[str, str]:
    """(language, text) of the first entry of a `contentMap`/`nameMap`, or ("", "")."""
    if isinstance(value, dict):
        for language, content in value.items():
            if isinstance(language, str) and isinstance(content, str):
                return language[:16], content[:limit]
    return "", ""


def host_of(uri: str) -> str:
    """`host[:port]` of an http(s) URI, lower-cased; "" when there is none."""
    rest = uri.split("://", 1)[1] if "://" in uri else ""
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return authority.rpartition("@")[2].lower()


def same_host(*uris: str) -> bool:
    hosts = {host_of(u) for u in uris}
    return len(hosts) == 1 and "" not in hosts


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
