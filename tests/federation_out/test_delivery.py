"""Fan-out and delivery over real loopback HTTP: recipients, signatures, retries (FLT-01..06),
the same body every attempt (IDEM-08) and shared-inbox deduplication."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpsig
from tortoise.expressions import F

from redfed.federation.signatures import parse_signed_request, verify_signed_request
from redfed.models import Account, Block, DomainBlock, DomainHealth, Job, JobState, Visibility
from redfed.services import outbox
from redfed.services.delivery import mark_domain_alive
from redfed.services.jobs import utcnow
from tests.support.sink import Answer, Delivery, Sink

from .conftest import Rows


def verify_both_ways(delivery: Delivery, public_pem: str, port: int) -> None:
    """Our verifier and the independent `httpsig` package both accept the delivered request."""
    now = datetime.now(UTC)
    headers = dict(delivery.headers)
    signed = parse_signed_request(
        "POST",
        delivery.path,
        "",
        headers,
        delivery.body,
        now=now,
        expected_host=f"{delivery.host}:{port}",
    )
    verify_signed_request(signed, public_pem)
    required = ["(request-target)", "host", "date", "digest", "content-type"]
    verifier = httpsig.HeaderVerifier(
        headers,
        public_pem,
        required_headers=required,
        method="POST",
        path=delivery.path,
        sign_header="signature",
    )
    assert verifier.verify()


async def run_all(worker) -> None:  # type: ignore[no-untyped-def]
    await worker.run_until_idle()


async def make_due(**filters: object) -> None:
    await Job.filter(state=JobState.QUEUED, **filters).update(
        run_at=utcnow() - timedelta(seconds=1)
    )


async def test_public_note_fans_out_to_distinct_inboxes_signed(
    rows: Rows,
    sink: Sink,
    worker,
    keypair,  # type: ignore[no-untyped-def]
) -> None:
    # Given alice with followers: 3 on one server (one shared inbox), 1 elsewhere, and some who
    # must get nothing (blocked, on a suspended domain, gone, local, pending)
    alice = await rows.local("alice")
    for name in ("a", "b", "c"):
        await rows.follow(await rows.remote(name, "one.example"), alice)
    await rows.follow(await rows.remote("d", "two.example", shared=False), alice)
    blocked = await rows.remote("e", "three.example")
    await rows.follow(blocked, alice)
    await Block.create(account=alice, target=blocked)
    await rows.follow(await rows.remote("f", "evil.example"), alice)
    await DomainBlock.create(domain="evil.example")
    await rows.follow(await rows.remote("g", "four.example", gone_at=utcnow()), alice)
    await rows.follow(await rows.local("bob"), alice)
    await rows.follow(await rows.remote("h", "five.example"), alice, accepted=False)
    note = await rows.note(alice, title="Hello")
    # When the note's creation federates
    await outbox.note_created(note)
    await run_all(worker)
    # Then exactly one delivery per distinct inbox, each a signed Create of the note
    got = sorted((d.host, d.path) for d in sink.deliveries)
    assert got == [("one.example", "/inbox"), ("two.example", "/users/d/inbox")]
    for delivery in sink.deliveries:
        activity = json.loads(delivery.body)
        assert activity["type"] == "Create" and activity["object"]["id"] == note.uri
        assert activity["object"]["name"] == "Hello"
        verify_both_ways(delivery, keypair[1], sink.port)
    assert await Job.filter(kind="deliver", state=JobState.DONE).count() == 2


async def test_followers_only_note_reaches_followers_and_direct_only_mentions(
    rows: Rows,
    sink: Sink,
    worker,  # type: ignore[no-untyped-def]
) -> None:
    alice = await rows.local("alice")
    await rows.follow(await rows.remote("a", "one.example"), alice)
    note = await rows.note(alice, Visibility.DIRECT)
    await outbox.note_created(note)
    await run_all(worker)
    assert sink.deliveries == []  # direct with no mentions: nobody


async def test_500_is_retried_with_backoff_and_the_same_body(
    rows: Rows,
    sink: Sink,
    worker,  # type: ignore[no-untyped-def]
) -> None:
    # Given a server answering 500, then 502, then 202 (FLT-01)
    alice = await rows.local("alice")
    await rows.follow(await rows.remote("a", "one.example"), alice)
    sink.answer("one.example", "/inbox", 500, 502, 202)
    await outbox.note_created(await rows.note(alice))
    # When the worker runs, each failure schedules a retry in the future
    await run_all(worker)
    job = await Job.get(kind="deliver")
    assert (job.state, job.attempts, job.last_status) == (JobState.QUEUED, 1, 500)
    assert job.run_at > utcnow() + timedelta(seconds=10)  # backoff: 1⁴ + 15 s at least
    await make_due()
    await run_all(worker)
    job = await Job.get(kind="deliver")
    assert (job.attempts, job.last_status) == (2, 502)
    assert job.run_at > utcnow() + timedelta(seconds=30)  # 2⁴ + 15
    await make_due()
    await run_all(worker)
    # Then it is done, and all three attempts carried the very same activity (IDEM-08)
    assert (await Job.get(kind="deliver")).state == JobState.DONE
    assert len(sink.deliveries) == 3
    assert len({d.body for d in sink.deliveries}) == 1


async def test_429_and_503_honour_retry_after_capped(rows: Rows, sink: Sink, worker) -> None:  # type: ignore[no-untyped-def]
    # Given three servers: 429 with seconds, 503 with an HTTP-date, 429 asking for a day (FLT-02)
    alice = await rows.local("alice")
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=600), usegmt=True)
    plan = {
        "a.example": Answer(429, (("Retry-After", "120"),)),
        "b.example": Answer(503, (("Retry-After", soon),)),
        "c.example": Answer(429, (("Retry-After", "86400"),)),
    }
    for host, answer in plan.items():
        await rows.follow(await rows.remote("x", host), alice)
        sink.answer(host, "/inbox", answer)
    await outbox.note_created(await rows.note(alice))
    await run_all(worker)
    waits = {
        j.domain: (j.run_at - utcnow()).total_seconds() for j in await Job.filter(kind="deliver")
    }
    assert 100 < waits["a.example"] <= 120
    assert 570 < waits["b.example"] <= 600
    assert 3500 < waits["c.example"] <= 3600  # capped at one hour
    assert all(j.state == JobState.QUEUED for j in await Job.filter(kind="deliver"))


async def test_4xx_not_retried_and_410_marks_the_actor_gone(rows: Rows, sink: Sink, worker) -> None:  # type: ignore[no-untyped-def]
    # Given a 404 inbox and a 410 inbox (FLT-03)
    alice = await rows.local("alice")
    lost = await rows.remote("lost", "a.example", shared=False)
    gone = await rows.remote("gone", "b.example", shared=False)
    for account in (lost, gone):
        await rows.follow(account, alice)
    sink.answer("a.example", "/users/lost/inbox", 404)
    sink.answer("b.example", "/users/gone/inbox", 410)
    await outbox.note_created(await rows.note(alice))
    await run_all(worker)
    # Then both are dead after one attempt, and only the 410 actor is marked gone
    jobs = {j.domain: j for j in await Job.filter(kind="deliver")}
    assert {d: (j.state, j.attempts, j.last_status) for d, j in jobs.items()} == {
        "a.example": (JobState.DEAD, 1, 404),
        "b.example": (JobState.DEAD, 1, 410),
    }
    assert (await Account.get(id=gone.id)).gone_at is not None
    assert (await Account.get(id=lost.id)).gone_at is None
    assert len(sink.deliveries) == 2
    # And a gone actor is left out of the next fan-out
    await outbox.note_created(await rows.note(alice))
    await run_all(worker)
    assert len(sink.to("b.example")) == 1


async def test_dns_failure_not_retried_connection_refused_retried(
    rows: Rows,
    sink: Sink,
    worker,
    dns,  # type: ignore[no-untyped-def]
) -> None:
    alice = await rows.local("alice")
    await rows.follow(await rows.remote("a", "nxdomain.example"), alice)
    dns.failing.add("nxdomain.example")
    refused = await Account.create(
        username="r",
        domain="closed.example",
        uri="http://closed.example:9/users/r",
        inbox_uri="http://closed.example:9/users/r/inbox",
    )
    await rows.follow(refused, alice)
    await outbox.note_created(await rows.note(alice))
    await run_all(worker)
    jobs = {j.domain: j for j in await Job.filter(kind="deliver")}
    assert jobs["nxdomain.example"].state == JobState.DEAD
    assert jobs["closed.example"].state == JobState.QUEUED and jobs["closed.example"].attempts == 1


async def test_circuit_breaker_opens_after_10_failures_and_postpones(
    rows: Rows,
    sink: Sink,
    worker,  # type: ignore[no-untyped-def]
) -> None:
    # Given a domain that fails every time (FLT-06)
    alice = await rows.local("alice")
    await rows.follow(await rows.remote("a", "down.example"), alice)
    sink.answer("down.example", "/inbox", 500)
    for _ in range(10):
        await outbox.note_created(await rows.note(alice))
    await run_all(worker)
    health = await DomainHealth.get(domain="down.example")
    assert health.consecutive_failures == 10
    assert health.circuit_open_until is not None and health.circuit_open_until > utcnow()
    # When more deliveries for that domain come due, they are postponed without a request
    # and without using up an attempt
    await outbox.note_created(await rows.note(alice))
    await run_all(worker)
    await make_due()
    before = len(sink.deliveries)
    await run_all(worker)
    assert len(sink.deliveries) == before == 10
    for job in await Job.filter(kind="deliver"):
        assert job.state == JobState.QUEUED and job.attempts - (job.max_attempts - 16) <= 1
        assert job.run_at > utcnow() + timedelta(minutes=50)
    # And a success (or incoming activity) closes it again
    await mark_domain_alive("down.example")
    sink.answer("down.example", "/inbox", 202)
    await make_due()
    await run_all(worker)
    assert await Job.filter(kind="deliver", state=JobState.DONE).count() == 11


async def test_failures_on_seven_days_mark_unavailable_until_a_success(
    rows: Rows,
    sink: Sink,
    worker,  # type: ignore[no-untyped-def]
) -> None:
    # Given a domain that already failed on 6 distinct earlier days (FLT-05)
    alice = await rows.local("alice")
    await rows.follow(await rows.remote("a", "flaky.example"), alice)
    today = utcnow().date()
    await DomainHealth.create(
        domain="flaky.example",
        consecutive_failures=6,
        failure_days=[(today - timedelta(days=n)).isoformat() for n in range(6, 0, -1)],
    )
    sink.answer("flaky.example", "/inbox", 503)
    # When it fails again today
    await outbox.note_created(await rows.note(alice))
    await run_all(worker)
    # Then it is unavailable and the next fan-out skips it
    assert (await DomainHealth.get(domain="flaky.example")).unavailable
    await Job.all().delete()
    await outbox.note_created(await rows.note(alice))
    await run_all(worker)
    assert await Job.filter(kind="deliver").count() == 0
    # Until the domain is heard from again
    await mark_domain_alive("flaky.example")
    health = await DomainHealth.get(domain="flaky.example")
    assert not health.unavailable and health.failure_days == [] and health.consecutive_failures == 0
    sink.answer("flaky.example", "/inbox", 202)
    await outbox.note_created(await rows.note(alice))
    await run_all(worker)
    assert await Job.filter(kind="deliver", state=JobState.DONE).count() == 1
    _ = F  # keep the import for row edits in other tests
