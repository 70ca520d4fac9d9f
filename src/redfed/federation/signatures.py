"""HTTP signatures: signing outgoing requests (draft-cavage-12) and checking incoming ones.

Incoming checks run in two phases so the caller can fetch the signer's key in between:
`parse_signed_request` (everything that needs no key) then `verify_signed_request`.
Both draft-cavage-12 (`Signature`) and RFC 9421 (`Signature-Input`, as Mastodon >= 4.5 accepts)
are understood. Every failure is one `SignatureError` whose reason is safe to show.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList, Item

from redfed.errors import Unauthorized
from redfed.federation.keys import InvalidKeyError, load_private_key, load_public_key

# Mastodon's window: a signature without `expires` is good for 5 min, and both ends get 1 h of
# clock skew; `expires` can never stretch it past 12 h after creation.
SIGNATURE_VALIDITY = timedelta(minutes=5)
CLOCK_SKEW = timedelta(hours=1)
MAX_EXPIRATION = timedelta(hours=12)
MAX_SIGNATURE_HEADER = 8192  # real headers are < 1 KB; a huge one is an attack (SIG-10)

ACCEPTED_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})
ACCEPTED_RFC9421_ALGORITHMS = frozenset({"rsa-v1_5-sha256", "ed25519"})

RequestSigner = Callable[[str, str, Mapping[str, str]], dict[str, str]]
"""signer(method, url, headers) -> headers with Date, Host, (Digest) and Signature added."""


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
        return _parse_rfc9421(method, path, query, lowered, body, now=now, host=expected_host)
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
        return _from_timestamp(created)
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
    end = _from_timestamp(expires) if expires is not None else created + SIGNATURE_VALIDITY
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


def _int_param(params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 12:
        raise SignatureError(f"Invalid {name} parameter")
    return int(value)


def _from_timestamp(value: int) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureError("Invalid signature timestamp") from exc


def _get(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _drop(headers: dict[str, str], *names: str) -> None:
    for key in [k for k in headers if k.lower() in names]:
        del headers[key]


# ---------------------------------------------------------------- RFC 9421


def _parse_rfc9421(
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes | None,
    *,
    now: datetime,
    host: str,
) -> SignedRequest:
    """RFC 9421 `Signature-Input`/`Signature`: the first label is the one checked (SIG-19)."""
    inputs = _sfv_dictionary(headers["signature-input"])
    signatures = _sfv_dictionary(headers.get("signature", ""))
    label = next(iter(inputs), None)
    member = inputs.get(label) if label else None
    signature = signatures.get(label) if label else None
    if not isinstance(member, InnerList) or not isinstance(signature, Item):
        raise SignatureError("Malformed Signature-Input or Signature")
    if not isinstance(signature.value, bytes):
        raise SignatureError("Malformed Signature-Input or Signature")
    params = member.params
    key_id, alg = params.get("keyid"), params.get("alg", "")
    if not isinstance(key_id, str) or not key_id or not isinstance(alg, str):
        raise SignatureError("Missing or invalid keyid")
    if alg and alg not in ACCEPTED_RFC9421_ALGORITHMS:
        raise SignatureError(f"Unsupported signature algorithm {alg[:32]}")
    created = _sfv_int(params.get("created"), "Missing or invalid created parameter")
    expires = params.get("expires")
    expires_at = None if expires is None else _sfv_int(expires, "Invalid expires parameter")
    components = _component_names(member)
    if "@method" not in components or "@target-uri" not in components:
        raise SignatureError("@method and @target-uri must be signed")
    if body is not None or method.upper() == "POST":
        if "content-digest" not in components:
            raise SignatureError("Content-Digest must be signed on a POST")
        _check_content_digest(headers.get("content-digest"), body or b"")
    check_host(headers, host, required=False)
    created_at = _from_timestamp(created)
    check_time_window(created_at, expires_at, now)
    lines = [
        f'"{name}": {_component_value(name, method, path, query, headers, host)}'
        for name in components
    ]
    lines.append(f'"@signature-params": {member}')
    return SignedRequest(
        key_id=key_id,
        algorithm=alg,
        signing_string=_latin1("\n".join(lines)),
        signature=signature.value,
        scheme="rfc9421",
        created=created_at,
    )


def _sfv_dictionary(raw: str) -> Dictionary:
    if len(raw) > MAX_SIGNATURE_HEADER:
        raise SignatureError("Signature header too long")
    parsed = Dictionary()
    try:
        parsed.parse(raw.encode("ascii"))
    except Exception as exc:  # noqa: BLE001 - any parser failure is a malformed header (SIG-10)
        raise SignatureError("Malformed Signature-Input or Signature") from exc
    return parsed


def _sfv_int(value: object, reason: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SignatureError(reason)
    return value


def _component_names(member: InnerList) -> list[str]:
    names: list[str] = []
    for item in member:
        # Component parameters (;sf, ;key, ;req, ;bs) are not used by fediverse peers.
        if not isinstance(item.value, str) or item.params or item.value in names:
            raise SignatureError("Unsupported signature component")
        names.append(item.value)
    return names


def _component_value(
    name: str, method: str, path: str, query: str, headers: dict[str, str], host: str
) -> str:
    # We are always reached as https://<configured host> (a TLS proxy sits in front), so the
    # derived components come from configuration, never from forwarded headers.
    target = f"{path}?{query}" if query else path
    derived = {
        "@method": method.upper(),
        "@target-uri": f"https://{host}{target}",
        "@authority": host.lower(),
        "@scheme": "https",
        "@request-target": target,
        "@path": path,
        "@query": f"?{query}",
    }
    if name in derived:
        return derived[name]
    if name.startswith("@") or name not in headers:
        raise SignatureError(f"Missing header: {name[:64]}")
    return headers[name]


def _check_content_digest(raw: str | None, body: bytes) -> None:
    if raw is None:
        raise SignatureError("Invalid Digest")
    digests = _sfv_dictionary(raw)
    checked = False
    for algorithm, hasher in (("sha-256", hashlib.sha256), ("sha-512", hashlib.sha512)):
        item = digests.get(algorithm)
        if item is None:
            continue
        if not isinstance(item, Item) or not isinstance(item.value, bytes):
            raise SignatureError("Invalid Digest")
        if not hmac.compare_digest(item.value, hasher(body).digest()):
            raise SignatureError("Invalid Digest", detail="Content-Digest does not match the body")
        checked = True
    if not checked:
        raise SignatureError("Invalid Digest", detail="no sha-256 or sha-512 in Content-Digest")


def _latin1(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise SignatureError("Invalid header encoding") from exc
