"""RFC 9421 HTTP message signatures (`Signature-Input` + `Signature`), as Mastodon >= 4.5 sends:
parsing and the key-free checks. The first label is the one checked (SIG-19).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList, Item

from redfed.federation.signature_checks import (
    MAX_SIGNATURE_HEADER,
    SignatureError,
    SignedRequest,
    check_host,
    check_time_window,
    from_timestamp,
)

ACCEPTED_RFC9421_ALGORITHMS = frozenset({"rsa-v1_5-sha256", "ed25519"})


def parse_rfc9421(
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
    created_at = from_timestamp(created)
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
