"""The inbox's front door: size cap, JSON, blocks, signature, signer == actor, store once, 202.

Nothing is applied here: a verified activity becomes one durable `inbox` job, unique on the
activity id, so a replay or a second copy to another inbox is processed once (SIG-20, IDEM-01/02).
Verification happens before any side effect (Fedify CVE-2025-54888).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redfed.activitypub.normalize import InvalidActivity, check_document, first_type, host_of, id_of
from redfed.errors import BadRequest, NotFound
from redfed.federation.addresses import FetchError
from redfed.federation.http import parse_json_document
from redfed.federation.signatures import SignatureError, parse_signed_request
from redfed.inbox.intake import JobIntake
from redfed.models import Account, Job
from redfed.runtime import Runtime
from redfed.services.jobs import utcnow
from redfed.services.moderation import first_suspended, is_suspended_domain
from redfed.services.signature_auth import Signer, verify_signature

__all__ = ["Dropped", "InboxRequest", "Signer", "receive_activity", "verify_signature"]

log = logging.getLogger(__name__)

_INTAKE = "inbox.intake"


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
    job = Job(
        kind="inbox",
        payload={"activity": doc, "signer": signer.uri, "recipient": request.recipient},
        unique_key=_unique_key(activity_id, doc),
        run_at=utcnow(),
        domain=signer.domain or "",
        max_attempts=5,
    )
    new = await _intake(rt).add(job)  # committed with the jobs of neighbouring requests
    rt.jobs_waiting.set()
    # DEBUG: at INFO this would be the busiest line of the log (one per accepted activity, up
    # to 1,000/s) and ~3% of the request's CPU; the job row is the record of what came in.
    log.debug("inbox.stored id=%s type=%s new=%s", activity_id, first_type(doc), new)
    return True


# Answers to a Follow are also keyed on the Follow they answer: Hollo (Fedify) names its
# Accept/Reject after the follower (`{actor}#accepts/{follower}`), so the answer to a second
# follow (after an unfollow) reuses the first answer's id and would be dropped as a replay,
# leaving our follow pending for ever. A true replay names the same Follow and is still dropped.
_KEYED_ON_OBJECT = frozenset({"Accept", "Reject"})


def _unique_key(activity_id: str, doc: dict[str, Any]) -> str:
    answered = id_of(doc.get("object")) if first_type(doc) in _KEYED_ON_OBJECT else None
    if not answered:
        return f"inbox:{activity_id}"
    # A digest keeps the key within the column (600) whatever the Follow id's length.
    return f"inbox:{activity_id}|{hashlib.sha256(answered.encode()).hexdigest()[:32]}"


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
