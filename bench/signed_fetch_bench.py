"""What a signature costs on AS2 GETs, and what the actor-freshness check costs a page.

    .venv/bin/python bench/signed_fetch_bench.py [-n 500] [--database-url postgres://…]
                                                 [--unsigned-only]

In-process (the app's ASGI test client, no sockets for our side): a remote actor on a fake
instance over loopback signs GETs with a real RSA key; its key is fetched once, then cached as
in production. Prints, per request, wall and CPU milliseconds for an unsigned GET of a public
note (the path every crawler takes), a signed GET of it, a signed GET of a followers-only note
by a follower, and a signed GET of the outbox's first page; then the CPU microseconds of
`refresh_if_stale` over a page of 20 fresh authors (the check added to every note page).
`--unsigned-only` measures the unsigned GETs alone, so it also runs on older commits (for a
before/after of the path crawlers take): `PYTHONPATH=<worktree>/src python bench/…`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import make_settings  # noqa: E402
from tests.support.fediverse import FakeInstance  # noqa: E402

from redfed.activitypub import uris  # noqa: E402
from redfed.app import create_app  # noqa: E402
from redfed.db import close_database, migrate_database, open_database  # noqa: E402
from redfed.federation.keys import generate_rsa_keypair  # noqa: E402
from redfed.models import Account, Follow, FollowState, Note, Visibility  # noqa: E402

AS2 = {"Accept": "application/activity+json"}
HOST = "redfed.test"


async def _note(author: Account, visibility: Visibility) -> Note:
    note = Note(
        account=author,
        visibility=visibility,
        published_at=datetime.now(UTC),
        content_html="<p>bench</p>",
        local=True,
    )
    note.uri = uris.note_uri(author.uri, note.id)
    await note.save()
    return note


async def _measure(label: str, n: int, request: Any) -> None:
    walls = []
    cpu0 = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        response = await request()
        walls.append(time.perf_counter() - start)
        assert response.status_code == 200, (label, response.status_code)
    cpu = (time.process_time() - cpu0) / n
    print(
        f"{label:<44} p50 {statistics.median(walls) * 1000:6.2f} ms"
        f"  p99 {sorted(walls)[int(n * 0.99) - 1] * 1000:6.2f} ms  CPU {cpu * 1000:6.2f} ms/req"
    )


async def run(n: int, database_url: str, unsigned_only: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite://{tmp}/bench.sqlite3"
        await migrate_database(url)
        await close_database()
        settings = make_settings(Path(tmp) / "data", url)
        await open_database(url)
        remote = await FakeInstance().start()
        try:
            await _bench(settings, remote, n, unsigned_only)
        finally:
            await remote.close()
            await close_database()


async def _bench(settings: Any, remote: FakeInstance, n: int, unsigned_only: bool) -> None:
    from redfed.services.delivery import ensure_instance_actor
    from redfed.services.remote_accounts import fetch_remote_actor

    application = create_app(settings, start_worker=False, manage_database=False)
    async with application.test_app() as app:
        client = app.test_client()
        runtime = app.app.config["REDFED_RUNTIME"]
        await ensure_instance_actor(settings)
        private, public = generate_rsa_keypair()
        actor = uris.actor_uri(settings.base_url, "alice")
        alice = await Account.create(
            username="alice",
            domain=None,
            uri=actor,
            inbox_uri=uris.inbox_uri(actor),
            public_key_id=uris.key_id(actor),
            public_key_pem=public,
            private_key_pem=private,
        )
        bob = remote.add_actor("bob")
        bob_row = await fetch_remote_actor(runtime, bob.uri)
        await Follow.create(follower=bob_row, followee=alice, state=FollowState.ACCEPTED)
        listed = await _note(alice, Visibility.PUBLIC)
        private_note = await _note(alice, Visibility.FOLLOWERS)
        for _ in range(30):
            await _note(alice, Visibility.PUBLIC)

        def signed(path: str) -> Any:
            headers = remote.signed_headers(bob, "GET", f"https://{HOST}{path}", None)
            return client.get(path, headers={**headers, **AS2})

        public_path = f"/users/alice/notes/{listed.id}"
        private_path = f"/users/alice/notes/{private_note.id}"
        outbox = "/users/alice/outbox?page=true"
        await _measure("unsigned GET, public note", n, lambda: client.get(public_path, headers=AS2))
        await _measure("unsigned GET, outbox page", n // 5, lambda: client.get(outbox, headers=AS2))
        if unsigned_only:
            return
        from redfed.services.actor_refresh import refresh_if_stale

        await signed(public_path)  # the key is fetched once, then cached
        await _measure("signed GET, public note", n, lambda: signed(public_path))
        await _measure(
            "signed GET, followers-only note (follower)", n, lambda: signed(private_path)
        )
        await _measure("signed GET, outbox page (follower)", n // 5, lambda: signed(outbox))
        cpu0 = time.process_time()
        for _ in range(n):
            remote.signed_headers(bob, "GET", f"https://{HOST}{public_path}", None)
        sign_ms = (time.process_time() - cpu0) / n * 1000
        print(f"{'(client side: signing one GET, included above)':<44} CPU {sign_ms:6.2f} ms")

        authors = [bob_row] * 10 + [alice] * 10
        rounds = 20_000
        cpu0 = time.process_time()
        for _ in range(rounds):
            await refresh_if_stale(runtime, authors)
        per_call = (time.process_time() - cpu0) / rounds * 1e6
        print(f"{'refresh_if_stale, 20 fresh authors':<44} CPU {per_call:6.2f} µs/page")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--database-url", default=os.environ.get("REDFED_BENCH_DATABASE_URL", ""))
    parser.add_argument("--unsigned-only", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.n, args.database_url, args.unsigned_only))


if __name__ == "__main__":
    main()
