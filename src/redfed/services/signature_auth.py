"""Who signed an incoming request: an HTTP signature checked against its key's owner.

One implementation for every signed request we receive: the inbox's POSTs and the signed GETs
of non-public documents (authorized fetch). The key is looked up in memory, then in the
database, and fetched from its origin only when neither verifies (a rotated key, SIG-17);
a host whose key fetch or check failed is not fetched from again for a while (SIG-16).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from redfed.activitypub.normalize import InvalidActivity, host_of
from redfed.errors import NotFound
from redfed.federation.addresses import FetchError
from redfed.federation.signatures import (
    SignatureError,
    SignedRequest,
    parse_signed_request,
    verify_signed_request,
)
from redfed.models import Account
from redfed.runtime import Runtime
from redfed.services import remote_accounts
from redfed.services.moderation import is_suspended_domain

log = logging.getLogger(__name__)

COOL_OFF_SECONDS = 300.0  # after a failed key fetch or check, no new fetch for that host (SIG-16)
_COOL_OFF = "inbox.key_cool_off"
# Verified keys kept in memory, the database being the second level; a key that stops
# verifying is dropped and refetched once (SIG-17), so staleness costs one refresh at most.
KEY_CACHE_SIZE = 10_000
KEY_CACHE_SECONDS = 300.0
_KEYS = "inbox.keys"


@dataclass(frozen=True)
class Signer:
    """The owner of a verified key, as the callers need it."""

    uri: str
    domain: str
    public_key_pem: str
    suspended_at: datetime | None


async def verify_signature(rt: Runtime, signed: SignedRequest) -> Signer:
    """Verify with the known key (memory, then database); on failure refresh it once, unless
    its host is cooling off."""
    cached = _cached_key(rt, signed.key_id)
    if cached is not None:
        if _verifies(signed, cached):
            return cached
        forget_key(rt, signed.key_id)  # maybe a rotated key (SIG-17)
    # Also after a cache miss-verify: another process may have stored the new key already.
    stored = await _stored_key(signed.key_id)
    if stored is not None and stored != cached and _verifies(signed, stored):
        _remember_key(rt, signed.key_id, stored)
        return stored
    source = host_of(signed.key_id)
    if _cooling_off(rt, source):
        raise SignatureError("Verification failed", detail=f"{source} is cooling off")
    try:
        owner = await remote_accounts.fetch_key_owner(rt, signed.key_id)
        verify_signed_request(signed, owner.public_key_pem)
    except (FetchError, InvalidActivity, SignatureError) as exc:
        _start_cool_off(rt, source)
        if isinstance(exc, SignatureError):
            raise
        raise SignatureError("Could not fetch the signing key", detail=str(exc)) from exc
    fresh = Signer(owner.uri, owner.domain or "", owner.public_key_pem or "", owner.suspended_at)
    _remember_key(rt, signed.key_id, fresh)
    return fresh


def is_signed(headers: Mapping[str, str]) -> bool:
    """Does the request carry a signature at all (cavage `Signature` or RFC 9421)?"""
    return any(name.lower() in ("signature", "signature-input") for name in headers.keys())


async def fetching_actor(
    rt: Runtime, method: str, path: str, query: str, headers: Mapping[str, str]
) -> Account | None:
    """The remote actor who signed this GET (authorized fetch); None when it is not signed.

    The same checks as the inbox's: cavage or RFC 9421, Date window, Host, the key fetched or
    cached, the key's owner is the actor. Raises SignatureError (401) for a signature that
    does not verify, and NotFound when the key's domain or the signer is suspended: a blocked
    server learns nothing, not even that the document exists (PRIV-09). `path` and `query`
    are as sent, still percent-encoded.
    """
    if not is_signed(headers):
        return None
    signed = parse_signed_request(
        method,
        path,
        query,
        headers,
        None,
        now=datetime.now(UTC),
        expected_host=rt.settings.instance.domain,
    )
    key_host = host_of(signed.key_id)
    if key_host == rt.settings.instance.domain.lower():
        # We never sign fetches to ourselves; a local key id would make us fetch our own URL.
        raise SignatureError("A local key cannot sign a fetch")
    if await is_suspended_domain(key_host):  # SIG-13: no key fetch for a suspended domain
        raise NotFound(detail=f"signed by {key_host}, a suspended domain")
    signer = await verify_signature(rt, signed)
    account = await Account.get_or_none(uri=signer.uri, domain__not_isnull=True)
    if account is None or account.suspended_at is not None:
        raise NotFound(detail=f"signed by {signer.uri}, suspended or unknown")
    return account


def _verifies(signed: SignedRequest, signer: Signer) -> bool:
    if not signer.public_key_pem:
        return False
    try:
        verify_signed_request(signed, signer.public_key_pem)
    except SignatureError:
        return False
    return True


def _cached_key(rt: Runtime, key_id: str) -> Signer | None:
    """The key's owner from memory (LRU, entries live KEY_CACHE_SECONDS)."""
    cache: OrderedDict[str, tuple[Signer, float]] = rt.state.setdefault(_KEYS, OrderedDict())
    hit = cache.get(key_id)
    if hit is None or hit[1] <= time.monotonic():
        return None
    cache.move_to_end(key_id)
    return hit[0]


async def _stored_key(key_id: str) -> Signer | None:
    """The key's owner from the database; two owners of one key id are refetched instead."""
    rows = (
        await Account.filter(public_key_id=key_id, domain__not_isnull=True)
        .limit(2)
        .values_list("uri", "domain", "public_key_pem", "suspended_at")
    )
    return Signer(*rows[0]) if len(rows) == 1 else None


def _remember_key(rt: Runtime, key_id: str, signer: Signer) -> None:
    """Keep a verified key in memory. A suspended owner is not kept: its requests are dropped
    anyway, and an unsuspension must apply at once (suspensions come from domain blocks, which
    the domain check applies before any key is looked at)."""
    cache: OrderedDict[str, tuple[Signer, float]] = rt.state.setdefault(_KEYS, OrderedDict())
    if signer.suspended_at is not None:
        cache.pop(key_id, None)
        return
    entry, now = cache.get(key_id), time.monotonic()
    if entry is None or entry[0] != signer or entry[1] <= now:  # new, changed or re-read
        cache[key_id] = (signer, now + KEY_CACHE_SECONDS)
    cache.move_to_end(key_id)
    while len(cache) > KEY_CACHE_SIZE:
        cache.popitem(last=False)


def forget_key(rt: Runtime, key_id: str) -> None:
    """Drop a key from this process's memory (its owner's document changed)."""
    rt.state.setdefault(_KEYS, OrderedDict()).pop(key_id, None)


def _cooling_off(rt: Runtime, source: str) -> bool:
    until: float | None = rt.state.setdefault(_COOL_OFF, {}).get(source)
    return until is not None and until > time.monotonic()


def _start_cool_off(rt: Runtime, source: str) -> None:
    table: dict[str, float] = rt.state.setdefault(_COOL_OFF, {})
    if len(table) > 10_000:
        table.clear()  # bounded memory; losing cool-offs only allows one more fetch each
    table[source] = time.monotonic() + COOL_OFF_SECONDS
    log.info("inbox.key_cool_off source=%s", source)
