"""What a remote server's answer means: the fetch error types, the delivery outcome, and the
checks on a fetched document (AS2 content type, `id` == URL, bounded JSON, Retry-After).
Pure functions, no I/O: http.py applies them to what aiohttp received.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from yarl import URL

from redfed.federation.addresses import FetchError

AS_PUBLIC_PROFILE = "https://www.w3.org/ns/activitystreams"
ACCEPT_ACTIVITYPUB = (
    f'application/activity+json, application/ld+json; profile="{AS_PUBLIC_PROFILE}"'
)
ACCEPT_JRD = "application/jrd+json, application/json"
MAX_JSON_DEPTH = 64

ErrorKind = Literal["timeout", "connection", "tls", "dns", "http", "unsafe"]


class TooLarge(FetchError):
    public_message = "The remote document is too large."


class NotActivityPub(FetchError):
    """Not an AS2 content type (ORI-03, FLT-11), not JSON, or nested too deep (RES-02)."""

    public_message = "The remote document is not ActivityPub."


class IdMismatch(FetchError):
    """The document's `id` is not the URL it was fetched from, or a redirect left the host."""

    public_message = "The remote document is not what was asked for."


class Gone(FetchError):
    status = 404
    public_message = "The remote resource is gone."


class NotFound(FetchError):
    status = 404
    public_message = "The remote resource was not found."


class Timeout(FetchError):
    status = 504
    public_message = "The remote server took too long."


class TooManyRedirects(FetchError):
    public_message = "The remote server redirected too often."


class HttpError(FetchError):
    """Any other non-2xx answer; `remote_status` is the peer's status code."""

    def __init__(self, remote_status: int) -> None:
        super().__init__(detail=f"remote answered HTTP {remote_status}")
        self.remote_status = remote_status


class ConnectionFailed(FetchError):
    """No usable connection; `kind` is "dns", "tls" or "connection"."""

    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(detail=detail)
        self.kind: ErrorKind = kind


@dataclass(frozen=True)
class DeliveryResult:
    """What a POST to a remote inbox did; the delivery queue decides about retries."""

    status: int | None
    retry_after: float | None = None  # seconds, from Retry-After (seconds or HTTP-date)
    error: ErrorKind | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


def check_document_id(document: dict[str, Any], url: str, requested: URL, final: URL) -> None:
    if (final.scheme, final.host, final.port) != (requested.scheme, requested.host, requested.port):
        raise IdMismatch(detail=f"redirect from {requested} left the origin for {final}")
    doc_id = document.get("id")
    if not isinstance(doc_id, str):
        raise IdMismatch(detail="document without an id")
    try:
        parsed = URL(doc_id)
    except (ValueError, TypeError) as exc:
        raise IdMismatch(detail="unparsable document id") from exc
    # A keyId fetch (`.../users/a#main-key`) may answer with the id with or without the fragment.
    if parsed.with_fragment(None) != final or (parsed.fragment and doc_id != url):
        raise IdMismatch(detail=f"document id {doc_id[:200]} != fetched {final}")


def parse_content_type(header: str) -> tuple[str, dict[str, str]]:
    """`application/ld+json; profile="x"` -> ("application/ld+json", {"profile": "x"})."""
    mime, *rest = header.split(";")
    params: dict[str, str] = {}
    for part in rest:
        name, _, value = part.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return mime.strip().lower(), params


def is_activitypub_content_type(header: str) -> bool:
    mime, params = parse_content_type(header)
    if mime == "application/activity+json":
        return True
    return mime == "application/ld+json" and AS_PUBLIC_PROFILE in params.get("profile", "").split()


def parse_json_document(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """A JSON object nested at most `max_depth` deep (RES-02: never a RecursionError)."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise NotActivityPub(detail="invalid or too deeply nested JSON") from exc
    if not isinstance(document, dict):
        raise NotActivityPub(detail="JSON document is not an object")
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            raise NotActivityPub(detail=f"JSON nested deeper than {max_depth}")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return document


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from `now`: delta-seconds or an HTTP-date; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 10**9))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())
