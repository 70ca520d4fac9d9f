"""Keeping remote actors fresh: a stored actor document older than STALE_AFTER is refetched in
the background when the actor is used (its note shown, a delivery to it, an activity from it).

The hot paths only call `refresh_if_stale`, which looks at rows they already hold: no query
unless an actor is stale, and then one INSERT for all of them (a `refresh_actor` job each,
unique per actor and STALE_AFTER period, so it is queued at most once). An actor queued by this
process is not offered again for an hour, and each domain gets at most REFRESHES_PER_DOMAIN
per REFRESH_WINDOW_SECONDS: a page full of one server's actors, or a fan-out to ten thousand
followers, asks that server for a bounded number of documents.

The job refetches the document from its origin through the safe client, as a first contact
does (`remote_accounts.fetch_remote_actor`): the key is only ever read from the origin and must
belong to the actor and its host — the rules Update(Person) follows when a key changes.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from redfed.activitypub.normalize import InvalidActivity
from redfed.federation.addresses import FetchError
from redfed.federation.responses import ConnectionFailed, Gone, HttpError, Timeout
from redfed.models import Account, Job
from redfed.runtime import Runtime
from redfed.services.jobs import GiveUp, RetryLater, insert_unique_jobs, utcnow
from redfed.services.remote_accounts import ActorUnavailable, fetch_remote_actor
from redfed.services.signature_auth import forget_key

log = logging.getLogger(__name__)

REFRESH_ACTOR = "refresh_actor"
STALE_AFTER = timedelta(hours=24)
REQUEUE_AFTER_SECONDS = 3600.0  # this process offers one actor again after an hour at most
REFRESHES_PER_DOMAIN = 20
REFRESH_WINDOW_SECONDS = 60.0
MAX_PER_CALL = 64  # one INSERT (insert_unique_jobs' batch limit)
_MEMORY_SIZE = 10_000
_STATE = "actor_refresh.gate"


class _Gate:
    """What this process queued lately, and each domain's budget in the current window."""

    def __init__(self) -> None:
        self.queued: OrderedDict[str, float] = OrderedDict()  # uri -> may offer again after
        self.domains: dict[str, tuple[float, int]] = {}  # domain -> (window start, count)

    def admit(self, uri: str, domain: str, now: float) -> bool:
        again = self.queued.get(uri)
        if again is not None and again > now:
            return False
        start, count = self.domains.get(domain, (now, 0))
        if now - start >= REFRESH_WINDOW_SECONDS:
            start, count = now, 0
        if count >= REFRESHES_PER_DOMAIN:
            return False
        if len(self.domains) >= _MEMORY_SIZE:
            self.domains.clear()  # bounded; forgetting budgets allows one more window each
        self.domains[domain] = (start, count + 1)
        self.queued[uri] = now + REQUEUE_AFTER_SECONDS
        self.queued.move_to_end(uri)
        while len(self.queued) > _MEMORY_SIZE:
            self.queued.popitem(last=False)
        return True


def _gate(rt: Runtime) -> _Gate:
    gate: _Gate | None = rt.state.get(_STATE)
    if gate is None:
        gate = rt.state[_STATE] = _Gate()
    return gate


def is_stale(account: Account, now: datetime) -> bool:
    """A remote actor whose document was fetched more than STALE_AFTER ago. Rows without a
    `fetched_at` were not made from a fetched document (every fetch stores one) and are left
    alone, as are local, suspended and gone actors."""
    return (
        account.domain is not None
        and account.fetched_at is not None
        and account.suspended_at is None
        and account.gone_at is None
        and now - account.fetched_at > STALE_AFTER
    )


def _unique_key(uri: str, now: datetime) -> str:
    period = int(now.timestamp() // STALE_AFTER.total_seconds())
    return f"{REFRESH_ACTOR}:{period}:{uri}"


async def refresh_if_stale(rt: Runtime, accounts: Iterable[Account]) -> int:
    """Queue a refresh of each stale remote actor among `accounts` (rows the caller already
    holds); returns how many jobs are new. Never raises: freshness is not worth a failed page."""
    now, clock = datetime.now(UTC), time.monotonic()
    gate = _gate(rt)
    jobs: dict[str, Job] = {}
    for account in accounts:
        if len(jobs) >= MAX_PER_CALL:
            break
        if account.uri in jobs or not is_stale(account, now):
            continue
        if not gate.admit(account.uri, str(account.domain), clock):
            continue
        jobs[account.uri] = Job(
            kind=REFRESH_ACTOR,
            payload={"uri": account.uri},
            unique_key=_unique_key(account.uri, now),
            run_at=utcnow(),
            domain=str(account.domain),
            max_attempts=3,
        )
    if not jobs:
        return 0
    try:
        new = await insert_unique_jobs(list(jobs.values()))
    except Exception:  # a page or a fan-out must not fail over a refresh
        log.warning("actor.refresh_enqueue_failed actors=%d", len(jobs), exc_info=True)
        for uri in jobs:
            gate.queued.pop(uri, None)
        return 0
    if new:
        rt.jobs_waiting.set()
        log.info("actor.refresh_queued actors=%d", len(new))
    return len(new)


def _transient(exc: Exception) -> bool:
    if isinstance(exc, Timeout | ConnectionFailed):
        return True
    return isinstance(exc, HttpError) and (exc.remote_status >= 500 or exc.remote_status == 429)


async def refresh_actor_job(rt: Runtime, job: Job) -> None:
    """The worker's `refresh_actor` handler."""
    uri = str(job.payload.get("uri", ""))
    account = await Account.get_or_none(uri=uri, domain__not_isnull=True)
    if account is None or not is_stale(account, datetime.now(UTC)):
        return  # gone from our database, or refreshed meanwhile (a key check, an Update)
    old_key = (account.public_key_id, account.public_key_pem)
    try:
        fresh = await fetch_remote_actor(rt, uri)
    except Gone:
        return  # marked gone by fetch_remote_actor
    except ActorUnavailable as exc:  # its domain was suspended meanwhile
        log.info("actor.refresh_skipped uri=%s reason=%s", uri, exc)
        return
    except (InvalidActivity, FetchError) as exc:
        reason = f"{type(exc).__name__}: {getattr(exc, 'detail', None) or exc}"[:500]
        if _transient(exc):
            raise RetryLater(reason) from exc
        # The stored document stays as it is; the next use after this period tries again.
        raise GiveUp(reason) from exc
    if (fresh.public_key_id, fresh.public_key_pem) != old_key:
        # The cached copy of the old key must not keep verifying in this process.
        for key_id in {old_key[0], fresh.public_key_id}:
            if key_id:
                forget_key(rt, key_id)
        log.info("actor.key_changed uri=%s", uri)
    log.info("actor.refreshed uri=%s", uri)
