"""HTTP signatures: signing outgoing requests (draft-cavage-12) and checking incoming ones.

Incoming checks run in two phases so the caller can fetch the signer's key in between:
`parse_signed_request` (everything that needs no key) then `verify_signed_request`.
Both draft-cavage-12 (`Signature`) and RFC 9421 (`Signature-Input`, in rfc9421.py) are
understood; the key-free checks they share live in signature_checks.py. Every failure is one
`SignatureError` whose reason is safe to show.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from redfed.federation.keys import InvalidKeyError, load_private_key, load_public_key
from redfed.federation.rfc9421 import parse_rfc9421
from redfed.federation.signature_checks import (
    MAX_SIGNATURE_HEADER,
    SignatureError,
    SignedRequest,
    check_digest,
    check_host,
    check_time_window,
    from_timestamp,
    lower_headers,
    parse_http_date,
    strict_b64decode,
)

ACCEPTED_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})

__all__ = [
    "RequestSigner",
    "SignatureError",
    "SignedRequest",
    "http_date",
    "make_request_signer",
    "parse_signed_request",
    "sign_request",
    "verify_signed_request",
]

RequestSigner = Callable[[str, str, Mapping[str, str]], dict[str, str]]
"""signer(method, url, headers) -> headers with Date, Host, (Digest) and Signature added."""


# ---------------------------------------------------------------- outgoing


def sign_request(
    method: str,
    url: str,
    *,
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Return `headers` plus Date, Host, Digest (with a body) and a cavage `Signature`."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError("sign_request needs an absolute URL")
    out = dict(headers or {})
    _drop(out, "date", "host", "digest", "signature")
    out["Date"] = http_date(now or datetime.now(UTC))
    out["Host"] = parts.netloc.rpartition("@")[2]
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [f"(request-target): {method.lower()} {target}", f"host: {out['Host']}"]
    lines.append(f"date: {out['Date']}")
    signed = ["(request-target)", "host", "date"]
    if body is not None:
        out["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        content_type = _get(out, "content-type") or "application/activity+json"
        _drop(out, "content-type")
        out["Content-Type"] = content_type
        lines += [f"digest: {out['Digest']}", f"content-type: {content_type}"]
        signed += ["digest", "content-type"]
    signature = _sign("\n".join(lines).encode(), private_key_pem)
    out["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(signed)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return out


def make_request_signer(key_id: str, private_key_pem: str) -> RequestSigner:
    """A signer for `SafeHttpClient.fetch_activitypub` (signed GETs for authorized fetch)."""

    def signer(method: str, url: str, headers: Mapping[str, str]) -> dict[str, str]:
        return sign_request(
            method, url, body=None, key_id=key_id, private_key_pem=private_key_pem, headers=headers
        )

    return signer


def http_date(moment: datetime) -> str:
    """IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _sign(data: bytes, private_key_pem: str) -> bytes:
    key = load_private_key(private_key_pem)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data)


# ---------------------------------------------------------------- incoming


def parse_signed_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    now: datetime,
    expected_host: str,
) -> SignedRequest:
    """Parse and check an incoming signature as far as possible without the key.

    `path` and `query` are exactly as sent (still percent-encoded; query without the `?`).
    """
    lowered = lower_headers(headers)
    if "signature-input" in lowered:
        return parse_rfc9421(method, path, query, lowered, body, now=now, host=expected_host)
    raw = lowered.get("signature")
    if raw is None:
        raise SignatureError("Request not signed")
    params = parse_signature_header(raw)
    key_id, signature_b64 = params.get("keyid"), params.get("signature")
    if not key_id or not signature_b64:
        raise SignatureError("Incompatible request signature. keyId and signature are required")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ACCEPTED_ALGORITHMS:
        raise SignatureError(f"Unsupported signature algorithm {algorithm[:32]}")
    signed_headers = params.get("headers", "date").lower().split()
    _check_required(signed_headers, method, body, algorithm)
    check_host(lowered, expected_host, required="host" in signed_headers)
    check_digest(lowered.get("digest"), body)
    created = _created_time(params, lowered, signed_headers)
    check_time_window(created, _int_param(params, "expires"), now)
    full = _signing_string(signed_headers, params, lowered, method, path, query)
    short = _signing_string(signed_headers, params, lowered, method, path, "") if query else None
    return SignedRequest(
        key_id=key_id,
        algorithm=algorithm,
        signing_string=full,
        signature=strict_b64decode(signature_b64, "Invalid signature encoding"),
        signing_string_without_query=short,
        created=created,
    )


def verify_signed_request(signed: SignedRequest, public_key_pem: str) -> None:
    """Raise SignatureError unless `signed` was made with the key in `public_key_pem`."""
    try:
        key = load_public_key(public_key_pem)
    except InvalidKeyError as exc:
        raise SignatureError("Invalid public key", detail=exc.detail) from exc
    is_rsa = isinstance(key, rsa.RSAPublicKey)
    if signed.algorithm in ("rsa-sha256", "rsa-v1_5-sha256") and not is_rsa:
        raise SignatureError("Key type does not match the signature algorithm")
    if signed.algorithm == "ed25519" and is_rsa:
        raise SignatureError("Key type does not match the signature algorithm")
    candidates = [signed.signing_string]
    if signed.signing_string_without_query is not None:
        candidates.append(signed.signing_string_without_query)
    for data in candidates:
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(signed.signature, data, padding.PKCS1v15(), hashes.SHA256())
            else:
                key.verify(signed.signature, data)
            return
        except InvalidSignature:
            continue
    raise SignatureError("Verification failed")


def _check_required(signed: list[str], method: str, body: bytes | None, algorithm: str) -> None:
    if "(request-target)" not in signed:
        raise SignatureError("Request target not signed")
    if method.upper() == "GET" and "host" not in signed:
        raise SignatureError("Host header not signed")
    if (body is not None or method.upper() == "POST") and "digest" not in signed:
        raise SignatureError("Mastodon requires the Digest header to be signed when doing a POST")
    if "date" not in signed and "(created)" not in signed:
        raise SignatureError("Neither Date nor (created) are signed")
    # cavage-12: (created)/(expires) are only defined for hs2019 (SIG-09).
    if algorithm == "rsa-sha256" and ("(created)" in signed or "(expires)" in signed):
        raise SignatureError("Invalid pseudo-header (created) for rsa-sha256")


def _created_time(params: dict[str, str], headers: dict[str, str], signed: list[str]) -> datetime:
    if "(created)" in signed:
        created = _int_param(params, "created")
        if created is None:
            raise SignatureError("Invalid created parameter")
        return from_timestamp(created)
    return parse_http_date(headers.get("date"))


def _signing_string(
    signed: list[str],
    params: dict[str, str],
    headers: dict[str, str],
    method: str,
    path: str,
    query: str,
) -> bytes:
    lines = []
    for name in signed:
        if name == "(request-target)":
            target = f"{path}?{query}" if query else path
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in ("(created)", "(expires)"):
            value = params.get(name[1:-1])
            if value is None:
                raise SignatureError(f"Missing signature parameter {name}")
            lines.append(f"{name}: {value}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureError(f"Missing header: {name[:64]}")
    try:
        return "\n".join(lines).encode("latin-1")
    except UnicodeEncodeError as exc:
        raise SignatureError("Invalid header encoding") from exc


# ---------------------------------------------------------------- shared checks


_PARAM_RE = re.compile(
    r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"\\]*)"|([0-9]+(?:\.[0-9]+)?))\s*'
)


def parse_signature_header(raw: str) -> dict[str, str]:
    """Parse `k="v",k2=123` strictly: lower-cased names, no duplicates, nothing left over."""
    if len(raw) > MAX_SIGNATURE_HEADER:
        raise SignatureError("Signature header too long")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(raw):
        match = _PARAM_RE.match(raw, pos)
        if match is None:
            raise SignatureError("Error parsing signature parameters")
        name = match.group(1).lower()
        if name in params:
            raise SignatureError("Error parsing signature parameters")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
        if pos < len(raw):
            if raw[pos] != ",":
                raise SignatureError("Error parsing signature parameters")
            pos += 1
            if pos == len(raw):
                raise SignatureError("Error parsing signature parameters")
    return params


def _int_param(params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 12:
        raise SignatureError(f"Invalid {name} parameter")
    return int(value)


def _get(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _drop(headers: dict[str, str], *names: str) -> None:
    for key in [k for k in headers if k.lower() in names]:
        del headers[key]
