"""The admin's federation page through the real app: who may see it, CSRF on retry, and that
retry revives dead jobs (all, or one domain's, closing its circuit breaker) and wakes the worker."""

from __future__ import annotations

from datetime import timedelta

from redfed.models import DomainHealth, Job, JobState
from redfed.services.jobs import utcnow

PAGE = "/admin/federation"


async def _dead(domain: str, error: str = "HTTP 500") -> Job:
    return await Job.create(
        kind="deliver",
        payload={"inbox": f"https://{domain}/inbox", "body": "{}", "actor_id": 1},
        domain=domain,
        state=JobState.DEAD,
        attempts=16,
        last_error=error,
        last_status=500,
        run_at=utcnow(),
        finished_at=utcnow(),
    )


async def _states() -> dict[int, tuple[str, int]]:
    return {j.id: (str(j.state), j.attempts) for j in await Job.all()}


async def test_page_is_for_admins_only(app, client, make_local_account, login) -> None:
    # Given a dead job and a plain user
    await _dead("down.example")
    plain = await make_local_account("plain")
    # When nobody is logged in, they are sent to the login page
    assert (await client.get(PAGE)).status_code == 302
    # When a plain user asks, they are refused, and their retry changes nothing
    token = await login(client, plain)
    assert (await client.get(PAGE)).status_code == 403
    before = await _states()
    refused = await client.post(f"{PAGE}/retry", form={"csrf_token": token})
    assert refused.status_code == 403
    assert await _states() == before


async def test_page_shows_counts_failing_domains_and_dead_jobs(
    app, make_local_account, login
) -> None:
    # Given a dead delivery, a queued job and a domain whose circuit is open
    await _dead("down.example", error="HTTP 503 from the peer")
    await Job.create(kind="federate", payload={}, run_at=utcnow())
    await DomainHealth.create(
        domain="down.example",
        consecutive_failures=12,
        last_error="HTTP 503",
        circuit_open_until=utcnow() + timedelta(minutes=30),
    )
    client = app.test_client()
    await login(client, await make_local_account("boss", admin=True))
    # When the admin opens the page, and the landing page
    html = await (await client.get(PAGE)).get_data(as_text=True)
    landing = await (await client.get("/admin")).get_data(as_text=True)
    # Then all three are listed, with the circuit state, and the landing page links here
    counts = html.split('id="queue-counts"')[1].split("</table>")[0]
    assert "<td>deliver</td><td>0</td><td>0</td><td>0</td><td>1</td>" in counts
    assert "<td>federate</td><td>1</td>" in counts
    domains = html.split('id="failing-domains"')[1].split("</table>")[0]
    assert "down.example" in domains and "open until" in domains and "HTTP 503" in domains
    dead = html.split('id="dead-jobs"')[1].split("</table>")[0]
    assert "https://down.example/inbox" in dead and "HTTP 503 from the peer" in dead
    assert f'href="{PAGE}"' in landing


async def test_retry_needs_csrf_then_revives_dead_jobs(
    app, runtime, make_local_account, login
) -> None:
    # Given dead jobs on two domains, one with its circuit open
    down = await _dead("down.example")
    other = await _dead("other.example")
    await DomainHealth.create(
        domain="down.example",
        consecutive_failures=12,
        circuit_open_until=utcnow() + timedelta(minutes=30),
    )
    client = app.test_client()
    token = await login(client, await make_local_account("boss", admin=True))
    # When the admin posts without the CSRF token, nothing changes
    before = await _states()
    missing = await client.post(f"{PAGE}/retry", form={"domain": "down.example"})
    assert missing.status_code == 403
    assert await _states() == before
    # When the admin retries one domain
    runtime.jobs_waiting.clear()
    done = await client.post(f"{PAGE}/retry", form={"csrf_token": token, "domain": "Down.Example"})
    # Then only its job is due again, attempts reset, its breaker closed, and the worker woken
    assert done.status_code == 303
    states = await _states()
    assert states[down.id] == ("queued", 0) and states[other.id] == ("dead", 16)
    health = await DomainHealth.get(domain="down.example")
    assert health.circuit_open_until is None
    assert runtime.jobs_waiting.is_set()
    # When the admin retries all dead jobs, the other one is due too
    await client.post(f"{PAGE}/retry", form={"csrf_token": token})
    assert (await _states())[other.id] == ("queued", 0)
