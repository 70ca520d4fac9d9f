"""The `deliver` job: sign and POST one activity to one inbox, and decide what an answer means.

Outcomes (FLT-01..06): 2xx done; 5xx, 408, 429, timeouts and connection errors retried (429/503
honour Retry-After, capped); other 4xx given up (410 also marks the actor gone); TLS, DNS and
unsafe-address errors given up. Per domain, a circuit breaker opens after 10 failures in a row
(jobs are postponed, not failed) and failures on 7 distinct days mark the domain unavailable
until any success or incoming activity (`mark_domain_alive`). For throughput the worker reads
the health of all of a batch's domains at once (`prepare_batch`), and a big batch is signed in
a helper process (federation/signing_pool.py), so the event loop keeps posting while another
core signs; a small one is signed right here (a round trip to the helper would cost more).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from redfed.activitypub import uris
from redfed.activitypub.vocab import AP_CONTENT_TYPE
from redfed.config import Settings
from redfed.federation.http import DeliveryResult
from redfed.federation.keys import generate_rsa_keypair
from redfed.federation.signatures import sign_request
from redfed.federation.signing_pool import SigningPool
from redfed.models import Account, DomainHealth, Job
from redfed.runtime import Runtime
from redfed.services.jobs import GiveUp, RetryLater, utcnow

log = logging.getLogger(__name__)

DELIVER = "deliver"
RETRY_AFTER_CAP = 3600.0  # a peer asking for a day of silence gets an hour
BREAKER_THRESHOLD = 10
BREAKER_OPEN = timedelta(hours=1)
UNAVAILABLE_DAYS = 7
_RETRIED_STATUSES = frozenset({408, 429})
# From this many deliveries in one worker batch on, signing goes to the helper process: one
# signature (~0.8 ms of CPU) would otherwise stall the event loop, and `cryptography` holds the
# GIL while it signs, so threads cannot help. Below it, signing here is cheaper than a round trip.
POOL_FROM = 16

# The health rows of the current batch's domains, read once by `prepare_batch` and kept up to
# date by this module's own writes; a domain missing here is read from the database.
_batch_health: contextvars.ContextVar[dict[str, DomainHealth | None] | None] = (
    contextvars.ContextVar("delivery_batch_health", default=None)
)
_use_pool: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "delivery_use_signing_pool", default=False
)
_signing_pool = SigningPool()  # one helper per worker process, started on first use


def inbox_domain(inbox: str) -> str:
    return (urlsplit(inbox).hostname or "").lower()


async def deliver(rt: Runtime, job: Job) -> None:
    """POST `payload.body` (the same bytes every attempt: IDEM-08), freshly signed, to the inbox."""
    payload: dict[str, Any] = job.payload
    inbox, body = str(payload["inbox"]), str(payload["body"]).encode()
    domain = job.domain or inbox_domain(inbox)
    now = utcnow()
    health = await _health(domain)
    if health is not None and health.circuit_open_until and health.circuit_open_until > now:
        # Postponed, not failed: give the attempt back before asking for a retry.
        await _postpone(job, (health.circuit_open_until - now).total_seconds())
    key_id, private_pem = await _signing_key(rt, int(payload["actor_id"]))
    headers = await _sign(inbox, body, key_id, private_pem)
    result = await rt.require_http().post_activity(inbox, body, headers)
    await _judge(result, inbox, domain, health, now)


async def prepare_batch(rt: Runtime, jobs: Sequence[Job]) -> None:
    """Read the health of every domain in a batch of deliver jobs in one query (the worker calls
    this in the batch's own task, so the snapshot lives exactly as long as the batch)."""
    domains = sorted({job.domain or inbox_domain(str(job.payload["inbox"])) for job in jobs})
    snapshot: dict[str, DomainHealth | None] = dict.fromkeys(domains)
    for start in range(0, len(domains), 500):  # SQLite allows 999 bound parameters
        for row in await DomainHealth.filter(domain__in=domains[start : start + 500]):
            snapshot[row.domain] = row
    _batch_health.set(snapshot)
    _use_pool.set(len(jobs) >= POOL_FROM)


async def _health(domain: str) -> DomainHealth | None:
    snapshot = _batch_health.get()
    if snapshot is not None and domain in snapshot:
        return snapshot[domain]
    return await DomainHealth.get_or_none(domain=domain)


def _remember(domain: str, health: DomainHealth) -> None:
    """Keep the batch snapshot true after our own write, so the breaker opened by a failure
    stops this batch's later jobs too, and a cleared domain is not cleared twice."""
    snapshot = _batch_health.get()
    if snapshot is not None:
        snapshot[domain] = health


async def _sign(inbox: str, body: bytes, key_id: str, private_pem: str) -> dict[str, str]:
    headers = {"Content-Type": AP_CONTENT_TYPE}
    if _use_pool.get():
        return await _signing_pool.sign(
            "POST", inbox, body=body, key_id=key_id, private_key_pem=private_pem, headers=headers
        )
    return sign_request(
        "POST", inbox, body=body, key_id=key_id, private_key_pem=private_pem, headers=headers
    )


async def start_signing_helper() -> bool:
    """Start the signing helper now rather than at the first big batch (the bench does, so that
    its start-up is not counted as delivery time)."""
    return await _signing_pool.start()


def signing_helper_pid() -> int | None:
    """The signing helper's process id, if this process started one (for benchmarks)."""
    return _signing_pool.helper_pid


async def _signing_key(rt: Runtime, actor_id: int) -> tuple[str, str]:
    """(keyId, private PEM) of a local actor, cached per process for a minute: a fan-out to
    thousands of inboxes would otherwise read the same row for every delivery."""
    cache: dict[int, tuple[float, str, str]] = rt.state.setdefault("delivery.keys", {})
    now = time.monotonic()
    hit = cache.get(actor_id)
    if hit is not None and now - hit[0] < 60:
        return hit[1], hit[2]
    actor = await Account.get_or_none(id=actor_id)
    if actor is None or not actor.private_key_pem:
        raise GiveUp("the sending actor no longer exists")
    key_id = actor.public_key_id or uris.key_id(actor.uri)
    cache[actor_id] = (now, key_id, actor.private_key_pem)
    return key_id, actor.private_key_pem


async def _postpone(job: Job, seconds: float) -> None:
    job.max_attempts += 1
    await Job.filter(id=job.id).update(max_attempts=F("max_attempts") + 1)
    raise RetryLater("circuit open for this domain", delay=max(seconds, 1.0))


async def _judge(
    result: DeliveryResult, inbox: str, domain: str, health: DomainHealth | None, now: datetime
) -> None:
    status = result.status
    if result.ok:
        log.info("delivery.sent inbox=%s status=%s", inbox, status)
        await _record_success(domain, health, now)
        return
    if result.error in ("tls", "dns", "unsafe"):
        await record_failure(domain, f"{result.error}: {result.detail}", now)
        raise GiveUp(f"{result.error} error: {result.detail}"[:500])
    if result.error in ("timeout", "connection"):
        await record_failure(domain, f"{result.error}: {result.detail}", now)
        raise RetryLater(f"{result.error}: {result.detail}"[:500])
    assert status is not None
    if status >= 500 or status in _RETRIED_STATUSES:
        await record_failure(domain, f"HTTP {status}", now)
        delay = None
        if status in (429, 503) and result.retry_after is not None:
            delay = min(max(result.retry_after, 1.0), RETRY_AFTER_CAP)
        raise RetryLater(f"HTTP {status}", delay=delay, status=status)
    # Any other 4xx: the server is up and said no; retrying would not change its mind.
    await _record_success(domain, health, now)
    if status == 410:
        gone = await Account.filter(inbox_uri=inbox, domain__not_isnull=True).update(gone_at=now)
        log.info("delivery.gone inbox=%s accounts=%d", inbox, gone)
    raise GiveUp(f"HTTP {status}", status=status)


async def _ensure_health(domain: str) -> None:
    await DomainHealth.bulk_create([DomainHealth(domain=domain)], ignore_conflicts=True)


async def record_failure(domain: str, error: str, now: datetime) -> None:
    """Count a failure: opens the breaker at 10 in a row, marks unavailable at 7 failing days."""
    await _ensure_health(domain)
    await DomainHealth.filter(domain=domain).update(
        consecutive_failures=F("consecutive_failures") + 1, last_error=error[:500]
    )
    health = await DomainHealth.get(domain=domain)
    today = now.date().isoformat()
    days = [d for d in health.failure_days if d != today][-(UNAVAILABLE_DAYS * 2) :] + [today]
    changes: dict[str, Any] = {"failure_days": days}
    if health.failing_since is None:
        changes["failing_since"] = now
    if health.consecutive_failures >= BREAKER_THRESHOLD:
        changes["circuit_open_until"] = now + BREAKER_OPEN
        if health.consecutive_failures == BREAKER_THRESHOLD:
            log.warning("delivery.circuit_open domain=%s", domain)
    if len(days) >= UNAVAILABLE_DAYS and not health.unavailable:
        changes["unavailable"] = True
        log.warning("delivery.domain_unavailable domain=%s days=%d", domain, len(days))
    await DomainHealth.filter(domain=domain).update(**changes)
    for name, value in changes.items():
        setattr(health, name, value)
    _remember(domain, health)


def _is_healthy(health: DomainHealth | None) -> bool:
    return health is None or (
        health.consecutive_failures == 0
        and not health.unavailable
        and not health.failure_days
        and health.circuit_open_until is None
    )


async def _record_success(domain: str, health: DomainHealth | None, now: datetime) -> None:
    # Skip the write for healthy domains: a fan-out of thousands would otherwise write each time.
    if _is_healthy(health) and (health is None or _recent(health.last_success_at, now)):
        return
    await mark_domain_alive(domain, now=now)


def _recent(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and now - moment < timedelta(hours=1)


async def mark_domain_alive(domain: str, *, now: datetime | None = None) -> None:
    """Clear the breaker and the unavailable mark: the domain answered or sent us something."""
    domain, now = domain.lower(), now or utcnow()
    await _ensure_health(domain)
    await DomainHealth.filter(domain=domain).update(
        consecutive_failures=0,
        failing_since=None,
        failure_days=[],
        circuit_open_until=None,
        unavailable=False,
        last_success_at=now,
        last_error="",
    )
    _remember(domain, DomainHealth(domain=domain, last_success_at=now))


async def unavailable_domains() -> set[str]:
    rows = await DomainHealth.filter(unavailable=True).values_list("domain", flat=True)
    return {str(d) for d in rows}


async def ensure_instance_actor(settings: Settings) -> Account:
    """The instance actor (an Application at `/actor`), created with its key pair on first use.

    It signs our fetches of remote documents (authorized-fetch peers require a signed GET)."""
    existing = await Account.get_or_none(username=uris.INSTANCE_ACTOR_USERNAME, domain=None)
    if existing is not None:
        return existing
    private_pem, public_pem = await asyncio.to_thread(generate_rsa_keypair)
    actor = uris.instance_actor_uri(settings.base_url)
    try:
        return await Account.create(
            username=uris.INSTANCE_ACTOR_USERNAME,
            domain=None,
            actor_type="Application",
            display_name=settings.instance.name,
            uri=actor,
            url=f"{settings.base_url}/about",
            inbox_uri=uris.inbox_uri(actor),
            outbox_uri=uris.outbox_uri(actor),
            shared_inbox_uri=uris.shared_inbox_uri(settings.base_url),
            public_key_id=uris.key_id(actor),
            public_key_pem=public_pem,
            private_key_pem=private_pem,
            locked=True,
            discoverable=False,
            indexable=False,
        )
    except IntegrityError:  # another process created it first
        return await Account.get(username=uris.INSTANCE_ACTOR_USERNAME, domain=None)
