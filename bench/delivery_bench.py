"""Delivery benchmark: one public note to N followers on M instances played by one loopback sink.

The sink runs in its own process, so the figures measure redfed rather than the sink sharing
its event loop (on 2 cores the sink still takes some of the CPU).

    .venv/bin/python bench/delivery_bench.py [--followers 10000] [--instances 1000]
        [--concurrency 64] [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Prints fan-out time, delivery time and deliveries/s, plus the cost of signing alone, so the
bottleneck (signing, job claiming, HTTP) can be read off. SQLite in a temp dir by default;
with --database-url a scratch PostgreSQL database is created next to it and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.connection
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.sink import LoopbackDns, Sink  # noqa: E402

from redfed.activitypub import uris  # noqa: E402
from redfed.config import load_settings  # noqa: E402
from redfed.db import close_database, migrate_database, open_database  # noqa: E402
from redfed.federation.http import SafeHttpClient  # noqa: E402
from redfed.federation.keys import generate_rsa_keypair  # noqa: E402
from redfed.federation.signatures import sign_request  # noqa: E402
from redfed.models import Account, Follow, FollowState, Job, JobState, Note  # noqa: E402
from redfed.runtime import Runtime  # noqa: E402
from redfed.services import outbox  # noqa: E402
from redfed.worker.handlers import default_handlers  # noqa: E402
from redfed.worker.runner import Worker  # noqa: E402

BASE = "https://bench.test"


def _serve_sink(conn: multiprocessing.connection.Connection) -> None:
    """The sink process: sends its port, then answers each message with the delivery count."""

    async def serve() -> None:
        sink = await Sink().start()
        conn.send(sink.port)
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, conn.recv) != "stop":
            conn.send(len(sink.deliveries))
        conn.send(len(sink.deliveries))
        await sink.stop()

    asyncio.run(serve())


class RemoteSink:
    """The bench's handle on the sink process: its URLs and its delivery count."""

    def __init__(self) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve_sink, args=(child,), daemon=True
        )
        self._process.start()
        self.port = int(self._conn.recv())

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def count(self) -> int:
        self._conn.send("count")
        return int(self._conn.recv())

    def stop(self) -> None:
        self._conn.send("stop")
        self._conn.recv()
        self._process.join(timeout=10)


async def seed(sink: RemoteSink, followers: int, instances: int, keys: tuple[str, str]) -> Note:
    actor = uris.actor_uri(BASE, "alice")
    alice = await Account.create(
        username="alice",
        uri=actor,
        inbox_uri=uris.inbox_uri(actor),
        public_key_id=uris.key_id(actor),
        followers_uri=uris.followers_uri(actor),
        private_key_pem=keys[0],
        public_key_pem=keys[1],
    )
    remote = [
        Account(
            username=f"u{n}",
            domain=f"i{n % instances}.bench",
            uri=sink.url(f"i{n % instances}.bench", f"/users/u{n}"),
            inbox_uri=sink.url(f"i{n % instances}.bench", f"/users/u{n}/inbox"),
            shared_inbox_uri=sink.url(f"i{n % instances}.bench", "/inbox"),
        )
        for n in range(followers)
    ]
    await Account.bulk_create(remote, batch_size=1000)
    await Follow.bulk_create(
        [
            Follow(follower_id=a.id, followee_id=alice.id, state=FollowState.ACCEPTED)
            for a in remote
        ],
        batch_size=1000,
    )
    note = Note(
        account=alice, published_at=datetime.now(UTC), title="Bench", content_html="<p>x</p>"
    )
    note.uri = uris.note_uri(actor, note.id)
    await note.save()
    return note


def signing_rate(keys: tuple[str, str], n: int = 300) -> float:
    started = time.perf_counter()
    for _ in range(n):
        sign_request(
            "POST", "https://a.example/inbox", body=b"x" * 1200, key_id="k", private_key_pem=keys[0]
        )
    return n / (time.perf_counter() - started)


async def scratch_postgres(server_url: str, drop: str = "") -> str:
    """A fresh database next to `server_url` (never the server's own database)."""
    import asyncpg

    admin = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        if drop:
            await admin.execute(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')
            return ""
        name = f"redfed_bench_{int(time.time())}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        return f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        await admin.close()


async def main(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="redfed-bench-"))
    url = f"sqlite://{data / 'bench.sqlite3'}"
    if args.database_url:
        url = await scratch_postgres(args.database_url)
    settings = load_settings(
        environ={},
        overrides={
            "instance": {"domain": "bench.test", "scheme": "https"},
            "storage": {"data_dir": str(data)},
            "database": {"url": url},
            "federation": {"allow_private_addresses": True},
            "worker": {"concurrency": args.concurrency},
        },
    )
    await migrate_database(url)
    await close_database()
    await open_database(url)
    sink = RemoteSink()
    keys = generate_rsa_keypair()
    print(
        f"database: {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}; "
        f"{args.followers} followers on {args.instances} instances; concurrency {args.concurrency}"
    )
    print(f"signing alone: {signing_rate(keys):.0f} signatures/s (one core)")
    try:
        note = await seed(sink, args.followers, args.instances, keys)
        async with SafeHttpClient(
            allow_private_addresses=True, user_agent="bench", dns_backend=LoopbackDns()
        ) as http:
            worker = Worker(
                Runtime(settings, http=http), default_handlers(), concurrency=args.concurrency
            )
            await outbox.note_created(note)
            started = time.perf_counter()
            await worker.run_once()  # the federate job: fan-out
            fanned = time.perf_counter()
            await worker.run_until_idle(max_rounds=100_000)
            done = time.perf_counter()
        sent = await Job.filter(kind="deliver", state=JobState.DONE).count()
        received = sink.count()
        print(f"fan-out: {fanned - started:.2f} s for {sent} deliver jobs")
        print(
            f"deliveries: {received} in {done - fanned:.2f} s = "
            f"{received / (done - fanned):.0f} deliveries/s"
        )
        print(f"total: {done - started:.2f} s")
    finally:
        sink.stop()
        await close_database()
        if args.database_url:
            await scratch_postgres(args.database_url, drop=url.rsplit("/", 1)[1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--instances", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database-url", default="")
    asyncio.run(main(parser.parse_args()))
