"""FLT-04: how a delivery fails decides whether it is retried. A connect timeout and a read
stall are retried; a TLS failure and NXDOMAIN are not (retrying cannot fix a certificate or a
missing name). Each fault is real on loopback: an HTTPS inbox with an untrusted certificate, a
listener whose accept queue is full (the SYN goes unanswered), an inbox that answers after the
read timeout, and a name our resolver fails."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from redfed.federation.http import SafeHttpClient
from redfed.models import Account, Job, JobState
from redfed.runtime import Runtime
from redfed.services import outbox
from tests.federation.test_http_tls import _self_signed
from tests.support.sink import LoopbackDns, Sink

from .conftest import Rows


@pytest.fixture
async def tls_port(tmp_path: Path) -> AsyncIterator[int]:
    """An HTTPS inbox whose self-signed certificate no trust store knows."""
    cert_path, key_path = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)

    async def accepted(request: web.Request) -> web.Response:
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/{tail:.*}", accepted)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(ssl=context)
    assert server.port is not None
    yield server.port
    await server.close()


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A port that never completes a new connection: its accept queue is already full."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(4):  # fill the queue (never accepted); later SYNs are dropped
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


async def _remote(username: str, host: str, port: int, scheme: str = "http") -> Account:
    actor = f"{scheme}://{host}:{port}/users/{username}"
    return await Account.create(
        username=username, domain=host, uri=actor, inbox_uri=f"{actor}/inbox"
    )


async def test_flt04_timeouts_retried_tls_and_nxdomain_not(
    rows: Rows, runtime: Runtime, worker, tls_port: int, full_backlog_port: int
) -> None:  # type: ignore[no-untyped-def]
    stalling = await Sink(delay=3.0).start()  # answers long after the read timeout
    dns = LoopbackDns(failing={"nxdomain.example"})
    original = runtime.http
    try:
        async with SafeHttpClient(
            allow_private_addresses=True,
            user_agent="redfed-test",
            dns_backend=dns,
            connect_timeout=0.5,
            read_timeout=0.5,
            total_timeout=2.0,
        ) as http:
            runtime.http = http
            # Given alice's followers behind each kind of fault
            alice = await rows.local("alice")
            for follower in (
                await _remote("s", "stall.example", stalling.port),
                await _remote("c", "connect.example", full_backlog_port),
                await _remote("t", "tls.example", tls_port, scheme="https"),
                await _remote("n", "nxdomain.example", 80),
            ):
                await rows.follow(follower, alice)
            # When her note is delivered
            await outbox.note_created(await rows.note(alice))
            await worker.run_until_idle()
    finally:
        runtime.http = original
        await stalling.stop()
    # Then timeouts wait for a retry, TLS and DNS failures are given up at once
    jobs = {j.domain: j for j in await Job.filter(kind="deliver")}
    assert set(jobs) == {"stall.example", "connect.example", "tls.example", "nxdomain.example"}
    for domain in ("stall.example", "connect.example"):
        assert jobs[domain].state == JobState.QUEUED, (domain, jobs[domain].last_error)
        assert jobs[domain].attempts == 1
    for domain in ("tls.example", "nxdomain.example"):
        assert jobs[domain].state == JobState.DEAD, (domain, jobs[domain].last_error)
    assert "tls" in jobs["tls.example"].last_error.lower()
    assert len(stalling.deliveries) == 1  # the stalled inbox was reached, then timed out
