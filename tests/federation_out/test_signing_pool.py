"""Signing in a helper process (federation/signing_pool.py): a big fan-out is signed there,
every signature still verifies, and a lost helper or a bad key never loses a request."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime

from redfed.federation.signatures import parse_signed_request, verify_signed_request
from redfed.federation.signing_pool import SigningFailed, SigningPool
from redfed.models import Job, JobState
from redfed.services import delivery, outbox
from tests.support.sink import Sink

from .conftest import Rows
from .test_delivery import verify_both_ways


def check(headers: dict[str, str], path: str, host: str, body: bytes, public_pem: str) -> None:
    signed = parse_signed_request(
        "POST",
        path,
        "",
        headers,
        body,
        now=datetime.now(UTC),
        expected_host=host,
    )
    verify_signed_request(signed, public_pem)


async def sign_many(pool: SigningPool, private_pem: str, count: int) -> list[dict[str, str]]:
    return list(
        await asyncio.gather(
            *(
                pool.sign(
                    "POST",
                    f"https://h{n}.example/inbox",
                    body=b'{"n":%d}' % n,
                    key_id="https://redfed.test/users/alice#main-key",
                    private_key_pem=private_pem,
                    headers={"Content-Type": "application/activity+json"},
                )
                for n in range(count)
            )
        )
    )


async def test_the_helper_signs_concurrent_requests_in_batches(keypair) -> None:  # type: ignore[no-untyped-def]
    pool = SigningPool(max_batch=8)
    try:
        assert await pool.start()
        helper = pool.helper_pid
        assert helper is not None and helper != os.getpid()
        signed = await sign_many(pool, keypair[0], 50)  # 50 requests: several batches of 8
        for n, headers in enumerate(signed):
            check(headers, "/inbox", f"h{n}.example", b'{"n":%d}' % n, keypair[1])
        assert pool.helper_pid == helper  # all of it in the one helper, none signed here
    finally:
        pool.close()
    assert pool.helper_pid is None


async def test_a_killed_helper_means_signing_here_not_a_lost_request(keypair) -> None:  # type: ignore[no-untyped-def]
    pool = SigningPool(max_batch=4)
    try:
        assert await pool.start()
        helper = pool.helper_pid
        assert helper is not None
        os.kill(helper, signal.SIGKILL)
        signed = await sign_many(pool, keypair[0], 20)
        for n, headers in enumerate(signed):
            check(headers, "/inbox", f"h{n}.example", b'{"n":%d}' % n, keypair[1])
        assert pool.helper_pid is None  # it noticed, and signs in-process from now on
    finally:
        pool.close()


async def test_a_bad_key_fails_only_its_own_request(keypair) -> None:  # type: ignore[no-untyped-def]
    pool = SigningPool()
    try:
        good = pool.sign(
            "POST", "https://a.example/inbox", body=b"{}", key_id="k", private_key_pem=keypair[0]
        )
        bad = pool.sign(
            "POST",
            "https://b.example/inbox",
            body=b"{}",
            key_id="k",
            private_key_pem="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----",
        )
        ok, failed = await asyncio.gather(good, bad, return_exceptions=True)
        assert isinstance(ok, dict) and "Signature" in ok
        assert isinstance(failed, SigningFailed)
        assert pool.helper_pid is not None  # the helper survives a bad request
    finally:
        pool.close()


async def test_a_big_fan_out_is_signed_by_the_helper_and_every_post_verifies(
    rows: Rows,
    sink: Sink,
    worker,
    keypair,  # type: ignore[no-untyped-def]
) -> None:
    # Given alice followed by more accounts on distinct servers than one batch signs in-process
    alice = await rows.local("alice")
    count = delivery.POOL_FROM + 4
    for n in range(count):
        await rows.follow(await rows.remote(f"u{n}", f"s{n}.example"), alice)
    note = await rows.note(alice, title="Many")
    # When the note federates through the worker
    await outbox.note_created(note)
    await worker.run_until_idle()
    # Then every inbox got one POST, each a correctly signed Create, and the helper did it
    assert sorted(d.host for d in sink.deliveries) == sorted(f"s{n}.example" for n in range(count))
    for posted in sink.deliveries:
        assert json.loads(posted.body)["object"]["id"] == note.uri
        verify_both_ways(posted, keypair[1], sink.port)
    assert await Job.filter(kind="deliver", state=JobState.DONE).count() == count
    assert delivery.signing_helper_pid() is not None


HOLDER = """
import asyncio
from redfed.federation.signing_pool import SigningPool

async def main():
    pool = SigningPool()
    assert await pool.start()
    print(pool.helper_pid, flush=True)
    await asyncio.sleep(60)

if __name__ == "__main__":
    asyncio.run(main())
"""


async def exited(pid: int) -> None:
    """Returns once `pid` (not our child) has exited: its pidfd becomes readable then."""
    pidfd = os.pidfd_open(pid)
    gone = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(pidfd, gone.set)
    try:
        await gone.wait()
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)


async def test_the_helper_exits_when_its_worker_is_killed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Given a process that started a signing helper
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    helper = int(await asyncio.wait_for(proc.stdout.readline(), 30))
    waiting = asyncio.create_task(exited(helper))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # alive while its worker is
    # When that process is killed with SIGKILL (no clean-up runs)
    proc.kill()
    await proc.wait()
    # Then the helper sees its pipe close and exits on its own: no orphan signer
    await asyncio.wait_for(waiting, 10)
