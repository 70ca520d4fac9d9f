"""Key-free checks shared by both incoming signature formats (draft-cavage-12 and RFC 9421):
the error type, the parsed-request type, and the Host, Digest, time-window and encoding checks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from redfed.errors import Unauthorized

# Mastodon's window: a signature without `expires` is good for 5 min, and both ends get 1 h of
# clock skew; `expires` can never stretch it past 12 h after creation.
SIGNATURE_VALIDITY = timedelta(minutes=5)
CLOCK_SKEW = timedelta(hours=1)
MAX_EXPIRATION = timedelta(hours=12)
MAX_SIGNATURE_HEADER = 8192  # real headers are < 1 KB; a huge one is an attack (SIG-10)


class SignatureError(Unauthorized):
    """Why a request's signature is refused; `public_message` is safe for the 401 body."""

    def __init__(self, reason: str, *, detail: str | None = None) -> None:
        # str(error) (what logs show) is "reason: detail"; only `reason` is ever sent back.
        super().__init__(reason, detail=f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedRequest:
    """A parsed incoming signature whose key-free checks have all passed."""

    key_id: str
    algorithm: str  # "rsa-sha256", "hs2019", or the RFC 9421 `alg` ("" when absent)
    signing_string: bytes
    signature: bytes
    # SIG-07: Mastodon and GoToSocial also accept a signature made without the query string.
    signing_string_without_query: bytes | None = None
    scheme: str = "cavage"  # or "rfc9421"
    created: datetime | None = None


def check_host(headers: Mapping[str, str], expected_host: str, *, required: bool) -> None:
    """The Host we were reached as must be our configured host (never a forwarded header)."""
    host = headers.get("host")
    if host is None:
        if required:
            raise SignatureError("Missing header: host")
        return
    if host.strip().lower() != expected_host.lower():
        raise SignatureError("Host header does not match this server")


def check_digest(header: str | None, body: bytes | None) -> None:
    """Digest must hold a strict-base64 SHA-256 of exactly the raw body (SIG-02/04)."""
    if header is None:
        if body:
            raise SignatureError("Invalid Digest")
        return
    found: str | None = None
    for part in header.split(","):
        algorithm, sep, value = part.strip().partition("=")
        if sep and algorithm.lower() == "sha-256":
            found = value.strip()
    if found is None:
        raise SignatureError("Invalid Digest", detail="Mastodon only supports SHA-256 in Digest")
    digest = strict_b64decode(found, "Invalid Digest")
    if len(digest) != 32:
        raise SignatureError("Invalid Digest", detail="SHA-256 digest is not 32 bytes")
    if not hmac.compare_digest(digest, hashlib.sha256(body or b"").digest()):
        raise SignatureError("Invalid Digest", detail="Digest does not match the body")


def check_time_window(created: datetime, expires: int | None, now: datetime) -> None:
    """Mastodon's window: created <= now + 1 h; now <= min(expires, created + 12 h) + 1 h."""
    end = from_timestamp(expires) if expires is not None else created + SIGNATURE_VALIDITY
    end = min(end, created + MAX_EXPIRATION)
    if created > now + CLOCK_SKEW or now > end + CLOCK_SKEW:
        raise SignatureError("Signed request date outside acceptable time window")


def parse_http_date(value: str | None) -> datetime:
    if not value or len(value) > 64:
        raise SignatureError("Invalid Date header")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureError("Invalid Date header") from exc
    if parsed.tzinfo is None:
        raise SignatureError("Invalid Date header")
    return parsed


def strict_b64decode(value: str, reason: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(reason) from exc


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case names; repeated fields joined with ", " (cavage-12 section 2.3)."""
    out: dict[str, str] = {}
    items = headers.items()
    for name, value in items:
        key = name.lower()
        out[key] = f"{out[key]}, {value.strip()}" if key in out else value.strip()
    return out


def from_timestamp(value: int) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureError("Invalid signature timestamp") from exc
