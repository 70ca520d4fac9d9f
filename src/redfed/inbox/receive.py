"""The inbox's front door: size cap, JSON, blocks, signature, signer == actor, store once, 202.

Nothing is applied here: a verified activity becomes one durable `inbox` job, unique on the
activity id, so a replay or a second copy to another inbox is processed once (SIG-20, IDEM-01/02).
Verification happens before any side effect (Fedify CVE-2025-54888).
"""

from __future__ import annotations

import hashlib
import logging
import time
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
from redfed.models import Account
from redfed.runtime import Runtime
from redfed.services import remote_accounts
from redfed.services.jobs import enqueue
from redfed.services.moderation import is_suspended_domain

log = logging.getLogger(__name__)

COOL_OFF_SECONDS = 300.0  # after a failed key fetch or check, no new fetch for that host (SIG-16)
_COOL_OFF = "inbox.key_cool_off"


@dataclass(frozen=True)
class InboxRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    recipient: str | None = None  # the local username of a personal inbox


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
    job = await enqueue(
        "inbox",
        {"activity": doc, "signer": signer.uri, "recipient": request.recipient},
        unique_key=f"inbox:{activity_id}",
        domain=signer.domain or "",
        max_attempts=5,
    )
    rt.jobs_waiting.set()
    log.info("inbox.stored id=%s type=%s new=%s", activity_id, first_type(doc), job is not None)
    return True


async def _local_user_exists(username: str) -> bool:
    return await Account.filter(username=username.lower(), domain=None, gone_at=None).exists()


async def _authenticate(
    rt: Runtime, request: InboxRequest, doc: dict[str, Any], actor: str
) -> Account:
    """The verified signer, who must be the activity's actor (SIG-14)."""
    if await is_suspended_domain(host_of(actor)):
        raise Dropped("actor domain suspended")
    signed = parse_signed_request(
        request.method,
        request.path,
        request.query,
        request.headers,
        request.body,
        now=datetime.now(UTC),
        expected_host=rt.settings.instance.domain,
    )
    if await is_suspended_domain(host_of(signed.key_id)):
        raise Dropped("key domain suspended")  # SIG-13: no key fetch either
    if first_type(doc) == "Delete" and id_of(doc.get("object")) == actor:
        if not await Account.filter(uri=actor).exists():
            raise Dropped("Delete of an actor we never knew")  # its key is gone: no fetch
    signer = await verify_signature(rt, signed)
    if signer.uri != actor:
        raise SignatureError("Signer is not the actor", detail=f"{signer.uri} signed for {actor}")
    if signer.suspended_at is not None:
        raise Dropped("actor suspended")
    return signer


async def verify_signature(rt: Runtime, signed: SignedRequest) -> Account:
    """Verify with the cached key; on failure refresh it once, unless its host is cooling off."""
    cached = await Account.get_or_none(public_key_id=signed.key_id, domain__not_isnull=True)
    if cached is not None and cached.public_key_pem:
        try:
            verify_signed_request(signed, cached.public_key_pem)
            return cached
        except SignatureError:
            pass  # maybe a rotated key (SIG-17): refresh once below
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
    return owner


def _cooling_off(rt: Runtime, source: str) -> bool:
    until: float | None = rt.state.setdefault(_COOL_OFF, {}).get(source)
    return until is not None and until > time.monotonic()


def _start_cool_off(rt: Runtime, source: str) -> None:
    table: dict[str, float] = rt.state.setdefault(_COOL_OFF, {})
    if len(table) > 10_000:
        table.clear()  # bounded memory; losing cool-offs only allows one more fetch each
    table[source] = time.monotonic() + COOL_OFF_SECONDS
    log.info("inbox.key_cool_off source=%s", source)
