"""The `federate` job: take what one local change sends (services/outgoing.py) and fan it
out into one `deliver` job per distinct inbox (shared inboxes deduplicated).

Recipients are remote accounts only, never suspended or gone ones, never on suspended or
unavailable domains, and never anyone in a block with the sender (either direction).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from tortoise.transactions import in_transaction

from redfed.models import Account, Block, DomainBlock, DomainSeverity, Job
from redfed.runtime import Runtime
from redfed.services.actor_refresh import refresh_if_stale
from redfed.services.delivery import DELIVER, inbox_domain, unavailable_domains
from redfed.services.jobs import enqueue_many, utcnow
from redfed.services.outgoing import BUILDERS, Outgoing

log = logging.getLogger(__name__)


async def federate(rt: Runtime, job: Job) -> None:
    """Worker handler for `federate` jobs (see services/outbox.py for the events)."""
    payload: dict[str, Any] = job.payload
    builder = BUILDERS.get(str(payload.get("event")))
    if builder is None:
        log.warning("federate.unknown_event event=%s", payload.get("event"))
        return
    outgoing = await builder(rt, job, payload)
    if outgoing is None:  # nothing to say (rows gone, local-only interaction)
        return
    inboxes = await select_inboxes(outgoing)
    await enqueue_deliveries(rt, outgoing, inboxes)
    await refresh_if_stale(rt, outgoing.recipients)  # bounded per call and per domain
    log.info("federate.fanned event=%s inboxes=%d", payload.get("event"), len(inboxes))


async def select_inboxes(out: Outgoing) -> list[str]:
    candidates = [a for a in out.recipients if a.domain and a.id != out.actor.id]
    if not candidates:
        return []
    refused = await _refused_domains({str(a.domain) for a in candidates})
    blocked = set() if out.through_blocks else await _blocked_ids(out.actor, candidates)
    inboxes: dict[str, None] = {}
    for account in candidates:
        if account.id in blocked or account.domain in refused:
            continue
        if account.suspended_at is not None or account.gone_at is not None:
            continue
        inbox = (out.shared and account.shared_inbox_uri) or account.inbox_uri
        if inbox:
            inboxes[inbox] = None
    return list(inboxes)


async def _blocked_ids(actor: Account, candidates: list[Account]) -> set[int]:
    """Accounts in a block with `actor`, whichever side made it."""
    ids = [a.id for a in candidates]
    mine = await Block.filter(account_id=actor.id, target_id__in=ids).values_list("target_id")
    theirs = await Block.filter(target_id=actor.id, account_id__in=ids).values_list("account_id")
    return {int(row[0]) for row in [*mine, *theirs]}


async def _refused_domains(domains: set[str]) -> set[str]:
    suspended = await DomainBlock.filter(
        domain__in=list(domains), severity=DomainSeverity.SUSPEND
    ).values_list("domain")
    return {str(row[0]) for row in suspended} | await unavailable_domains()


async def enqueue_deliveries(rt: Runtime, out: Outgoing, inboxes: Iterable[str]) -> None:
    """One deliver job per inbox, all carrying the same body (IDEM-08); the unique key makes a
    re-run of this fan-out (after a crash) add nothing twice."""
    body = json.dumps(out.activity, ensure_ascii=False, separators=(",", ":"))
    activity_id = str(out.activity["id"])
    attempts = rt.settings.federation.delivery_max_attempts
    now = utcnow()
    jobs = [
        Job(
            kind=DELIVER,
            payload={
                "inbox": inbox,
                "body": body,
                "actor_id": out.actor.id,
                "activity_id": activity_id,
            },
            unique_key="deliver:" + hashlib.sha256(f"{activity_id} {inbox}".encode()).hexdigest(),
            run_at=now,
            domain=inbox_domain(inbox),
            max_attempts=attempts,
        )
        for inbox in inboxes
    ]
    async with in_transaction():
        await enqueue_many(jobs)
    if jobs:
        rt.jobs_waiting.set()


__all__ = ["Outgoing", "enqueue_deliveries", "federate", "select_inboxes"]
