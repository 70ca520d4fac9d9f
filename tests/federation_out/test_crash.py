"""FLT-07: `kill -9` of a real `redfed worker` process in the middle of a delivery batch loses
nothing — after a restart every delivery reaches its inbox at least once. Also the queue CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from tortoise.backends.base.executor import EXECUTOR_CACHE

from redfed.db import close_database, migrate_database, open_database
from redfed.federation.http import SafeHttpClient
from redfed.models import Account, Follow, FollowState, Job, JobState
from redfed.runtime import Runtime
from redfed.services import outbox
from redfed.services.jobs import utcnow
from redfed.worker.handlers import default_handlers
from redfed.worker.runner import Worker
from tests.conftest import make_settings
from tests.federation_out.conftest import Rows
from tests.support.sink import Sink

FOLLOWERS = 30


async def close_file_database() -> None:
    """Close, and forget Tortoise's per-table SQL cache: it is keyed by connection name, so
    SQLite statements would otherwise be reused on the suite's PostgreSQL database."""
    await close_database()
    EXECUTOR_CACHE.clear()


def cli_env(db_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDFED_")}
    env.update(
        {
            "REDFED_DATABASE_URL": db_url,
            "REDFED_STORAGE_DATA_DIR": str(data_dir),
            "REDFED_INSTANCE_DOMAIN": "redfed.test",
            "REDFED_INSTANCE_SCHEME": "https",
            "REDFED_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "true",
            "REDFED_WORKER_CONCURRENCY": "4",
            "REDFED_WORKER_POLL_SECONDS": "0.05",
        }
    )
    return env


async def seed(sink: Sink, keypair: tuple[str, str]) -> None:
    rows = Rows(keypair, None)
    alice = await rows.local("alice")
    for n in range(FOLLOWERS):
        actor = sink.url("127.0.0.1", f"/users/u{n}")
        follower = await Account.create(
            username=f"u{n}", domain="127.0.0.1", uri=actor, inbox_uri=f"{actor}/inbox"
        )
        await Follow.create(follower=follower, followee=alice, state=FollowState.ACCEPTED)
    await outbox.note_created(await rows.note(alice))


async def run_cli(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "redfed.cli",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return int(proc.returncode or 0), out.decode()


async def test_kill_9_mid_batch_loses_no_delivery(tmp_path: Path, keypair) -> None:  # type: ignore[no-untyped-def]
    # Given a file database with one note to 30 followers, and a slow sink
    db_url = f"sqlite://{tmp_path / 'crash.sqlite3'}"
    sink = await Sink(delay=0.5).start()
    await migrate_database(db_url)
    await close_file_database()
    await open_database(db_url)
    await seed(sink, keypair)
    await close_file_database()
    env = cli_env(db_url, tmp_path / "data")
    # When a real worker process is killed with SIGKILL while deliveries are in flight
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "redfed.cli",
        "worker",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(30):
            await sink.reached(3).wait()
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    reached_before = {d.path for d in sink.deliveries}
    assert len(reached_before) < FOLLOWERS  # it really died mid-batch
    # Then after the leases expire (the clock moved by editing rows) a new worker sends the rest
    sink.delay = 0
    await open_database(db_url)
    try:
        assert await Job.filter(state=JobState.RUNNING).count() > 0
        await Job.filter(state=JobState.RUNNING).update(
            locked_until=utcnow() - timedelta(seconds=1)
        )
        settings = make_settings(tmp_path / "data", db_url)
        async with SafeHttpClient(allow_private_addresses=True, user_agent="t") as http:
            worker = Worker(Runtime(settings, http=http), default_handlers())
            await worker.run_until_idle()
        # (the worker also schedules its hourly feed maintenance; only federation jobs count here)
        federation = Job.filter(kind__in=["federate", "deliver"])
        assert await federation.exclude(state=JobState.DONE).count() == 0
        assert await Job.filter(kind="deliver").count() == FOLLOWERS
    finally:
        await close_file_database()
        await sink.stop()
    expected = {f"/users/u{n}/inbox" for n in range(FOLLOWERS)}
    assert {d.path for d in sink.deliveries} == expected  # at least once each


async def test_queue_cli_status_and_retry(tmp_path: Path) -> None:
    db_url = f"sqlite://{tmp_path / 'q.sqlite3'}"
    await migrate_database(db_url)
    await close_file_database()
    await open_database(db_url)
    await Job.create(
        kind="deliver",
        payload={},
        state=JobState.DEAD,
        run_at=utcnow(),
        domain="down.example",
        last_error="HTTP 500",
    )
    await close_file_database()
    env = cli_env(db_url, tmp_path / "data")
    code, out = await run_cli(env, tmp_path, "queue", "status")
    assert code == 0 and "deliver" in out, out
    code, out = await run_cli(env, tmp_path, "queue", "retry", "--dead", "--domain", "down.example")
    assert code == 0 and "1 job(s)" in out, out
    await open_database(db_url)
    try:
        assert (await Job.get(domain="down.example")).state == JobState.QUEUED
    finally:
        await close_file_database()
