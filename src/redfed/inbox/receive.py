"""The inbox's front door: size cap, JSON, blocks, signature, signer == actor, store once, 202.

Nothing is applied here: a verified activity becomes one durable `inbox` job, unique on the
activity id, so a replay or a second copy to another inbox is processed once (SIG-20, IDEM-01/02).
Verification happens before any side effect (Fedify CVE-2025-54888).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redfed.activitypub.normalize import InvalidActivity, check_document, first_type, host_of, id_of
from redfed.errors import BadRequest, NotFound
from redfed.federation.addresses import FetchError
from redfed.federation.http import parse_json_document
from redfed.federation.signatures import (
    SignatureError,
    SignedRequest,
    parse_signed_request,
    verify_signed_request,
)
from redfed.inbox.intake import JobIntake
from redfed.models import Account, Job
from redfed.runtime import Runtime
from redfed.services import remote_accounts
from redfed.services.jobs import utcnow
from redfed.services.moderation import first_suspended, is_suspended_domain

log = logging.getLogger(__name__)

COOL_OFF_SECONDS = 300.0  # after a failed key fetch or check, no new fetch for that host (SIG-16)
_COOL_OFF = "inbox.key_cool_off"
# Verified keys kept in memory, the database being the second level; a key that stops
# verifying is dropped and refetched once (SIG-17), so staleness costs one refresh at most.
KEY_CACHE_SIZE = 10_000
KEY_CACHE_SECONDS = 300.0
_KEYS = "inbox.keys"
_INTAKE = "inbox.intake"


@dataclass(frozen=True)
class InboxRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    recipient: str | None = None  # the local username of a personal inbox


@dataclass(frozen=True)
class Signer:
    """The owner of a verified key, as the inbox needs it."""

    uri: str
    domain: str
    public_key_pem: str
    suspended_at: datetime | None


class Dropped(Exception):
    """The activity is accepted (202) but deliberately not stored: blocked, or nothing to do."""


async def receive_activity(rt: Runtime, request: InboxRequest) -> bool:
    """Check and store one POSTed activity. True if stored, False if dropped; raises
    BadRequest (400), SignatureError (401) or NotFound (404) otherwise."""
    try:
        doc = parse_json_document(request.body)
        check_document(doc)
    except (FetchError, InvalidActivity) as exc:
        raise BadRequest("The activity is not valid.", detail=str(exc)) from exc
    actor = id_of(doc.get("actor"))
    if actor is None or not isinstance(doc.get("type"), str | list):
        raise BadRequest("The activity is not valid.", detail="no actor or type")
    if request.recipient is not None and not await _local_user_exists(request.recipient):
        raise NotFound()
    try:
        signer = await _authenticate(rt, request, doc, actor)
    except Dropped as reason:
        log.info("inbox.dropped actor=%s reason=%s", actor, reason)
        return False
    activity_id = id_of(doc.get("id")) or "sha256:" + hashlib.sha256(request.body).hexdigest()
    job = Job(
        kind="inbox",
        payload={"activity": doc, "signer": signer.uri, "recipient": request.recipient},
        unique_key=f"inbox:{activity_id}",
        run_at=utcnow(),
        domain=signer.domain or "",
        max_attempts=5,
    )
    new = await _intake(rt).add(job)  # committed with the jobs of neighbouring requests
    rt.jobs_waiting.set()
    log.info("inbox.stored id=%s type=%s new=%s", activity_id, first_type(doc), new)
    return True


def _intake(rt: Runtime) -> JobIntake:
    intake: JobIntake | None = rt.state.get(_INTAKE)
    if intake is None:
        intake = rt.state[_INTAKE] = JobIntake()
    return intake


async def _local_user_exists(username: str) -> bool:
    return await Account.filter(username=username.lower(), domain=None, gone_at=None).exists()


async def _authenticate(
    rt: Runtime, request: InboxRequest, doc: dict[str, Any], actor: str
) -> Signer:
    """The verified signer, who must be the activity's actor (SIG-14)."""
    try:
        signed = parse_signed_request(
            request.method,
            request.path,
            request.query,
            request.headers,
            request.body,
            now=datetime.now(UTC),
            expected_host=rt.settings.instance.domain,
        )
    except SignatureError:
        if await is_suspended_domain(host_of(actor)):  # dropped quietly, as a signed one is
            raise Dropped("actor domain suspended") from None
        raise
    # One look at the block table for both hosts; SIG-13: no key fetch for a suspended one.
    if await first_suspended(host_of(actor), host_of(signed.key_id)) is not None:
        raise Dropped("actor or key domain suspended")
    if first_type(doc) == "Delete" and id_of(doc.get("object")) == actor:
        if not await Account.filter(uri=actor).exists():
            raise Dropped("Delete of an actor we never knew")  # its key is gone: no fetch
    signer = await verify_signature(rt, signed)
    if signer.uri != actor:
        raise SignatureError("Signer is not the actor", detail=f"{signer.uri} signed for {actor}")
    if signer.suspended_at is not None:
        raise Dropped("actor suspended")
    return signer


async def verify_signature(rt: Runtime, signed: SignedRequest) -> Signer:
    """Verify with the known key (memory, then database); on failure refresh it once, unless
    its host is cooling off."""
    cached = _cached_key(rt, signed.key_id)
    if cached is not None:
        if _verifies(signed, cached):
            return cached
        _forget_key(rt, signed.key_id)  # maybe a rotated key (SIG-17)
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


def _forget_key(rt: Runtime, key_id: str) -> None:
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
