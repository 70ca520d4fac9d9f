"""FLT-08 and FLT-09: the database failing under the inbox.

FLT-08, the database drops while an activity is handled. On PostgreSQL the drop is real: a
trigger on the table being written calls `pg_terminate_backend(pg_backend_pid())`, so the
server ends the very session that is inserting, in the middle of the statement (as a restart
or a failover would). SQLite has no server to lose; there the same trigger raises an error from
inside the INSERT (`RAISE(ABORT, …)`), which simulates a failed write (disk full, I/O error),
not a lost connection. Both check the two places that write: the inbox request (the stored
job) and the worker applying it (a note with its tags, in one transaction).

FLT-09 (SQLite only): another connection (another process, as `redfed worker` beside
`redfed run` would be) holds or keeps taking the write lock while the inbox stores and the
worker applies activities: WAL and the busy timeout make writers wait, a job that still fails is
retried, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from tortoise import connections

from redfed.db import is_postgres
from redfed.models import Job, JobState, Note, NoteTag
from redfed.services.jobs import utcnow
from tests.federation_in.conftest import snapshot, warm
from tests.support.fediverse import FakeInstance


class DatabaseSaboteur:
    """Makes every INSERT into one table fail the way the database at `url` can fail."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = is_postgres(url)

    async def _run(self, *statements: str) -> None:
        if self.postgres:
            conn = await asyncpg.connect(self.url.replace("postgres://", "postgresql://", 1))
            try:
                for statement in statements:
                    await conn.execute(statement)
            finally:
                await conn.close()
        else:
            with sqlite3.connect(self.url.removeprefix("sqlite://")) as conn:
                for statement in statements:
                    conn.execute(statement)

    async def break_inserts(self, table: str) -> None:
        if self.postgres:
            await self._run(
                "CREATE OR REPLACE FUNCTION redfed_test_drop_session() RETURNS trigger AS $$"
                " BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END"
                " $$ LANGUAGE plpgsql",
                f'CREATE TRIGGER redfed_test_drop BEFORE INSERT ON "{table}"'
                " FOR EACH ROW EXECUTE FUNCTION redfed_test_drop_session()",
            )
        else:
            await self._run(
                f'CREATE TRIGGER redfed_test_drop BEFORE INSERT ON "{table}"'
                " BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"
            )

    async def repair(self, table: str) -> None:
        if self.postgres:
            await self._run(f'DROP TRIGGER IF EXISTS redfed_test_drop ON "{table}"')
        else:
            await self._run("DROP TRIGGER IF EXISTS redfed_test_drop")

    async def count_jobs(self, unique_key: str) -> int:
        """Read from a connection of its own: what is there is durable, not a session's view."""
        if self.postgres:
            conn = await asyncpg.connect(self.url.replace("postgres://", "postgresql://", 1))
            try:
                return int(
                    await conn.fetchval("SELECT count(*) FROM jobs WHERE unique_key=$1", unique_key)
                )
            finally:
                await conn.close()
        with sqlite3.connect(self.url.removeprefix("sqlite://")) as conn:
            row = conn.execute("SELECT count(*) FROM jobs WHERE unique_key=?", (unique_key,))
            return int(row.fetchone()[0])


@pytest.fixture
async def saboteur(db: str) -> AsyncIterator[DatabaseSaboteur]:
    found = DatabaseSaboteur(db)
    yield found
    for table in ("jobs", "note_tags"):
        await found.repair(table)


async def test_flt08_database_drop_during_inbox_post_is_5xx_then_retry_stores_once(
    client, worker, runtime, remote: FakeInstance, alice, saboteur: DatabaseSaboteur
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    create = remote.activity(bob, "Create", remote.note(bob))
    key = f"inbox:{create['id']}"
    before = await snapshot()
    # When the database goes away while the activity is being stored
    await saboteur.break_inserts("jobs")
    response = await remote.post(client, bob, "/inbox", create)
    # Then the sender is told to retry (5xx), and nothing was stored
    assert 500 <= response.status_code < 600
    await saboteur.repair("jobs")
    assert await saboteur.count_jobs(key) == 0
    assert await snapshot() == before
    # And its retry, once the database is back, is accepted only after a durable write
    response = await remote.post(client, bob, "/inbox", create)
    assert response.status_code == 202
    assert await saboteur.count_jobs(key) == 1
    await worker.run_until_idle()
    assert await Note.exists(uri=create["object"]["id"])


async def test_flt08_database_drop_while_applying_is_never_half_applied(
    client, worker, runtime, remote: FakeInstance, alice, saboteur: DatabaseSaboteur
) -> None:
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    tags = [{"type": "Hashtag", "name": f"#tag{i}"} for i in range(3)]
    create = remote.activity(bob, "Create", remote.note(bob, tag=tags))
    assert (await remote.post(client, bob, "/inbox", create)).status_code == 202
    before = await snapshot()
    # When the database goes away halfway through storing the note (at its tag links)
    await saboteur.break_inserts("note_tags")
    await worker.run_until_idle()
    await saboteur.repair("note_tags")
    # Then nothing of the note is kept (no note, no tag, no count), and its job waits to retry
    after = await snapshot()
    after.pop("jobs"), before.pop("jobs")
    assert after == before
    job = await Job.get(kind="inbox")
    assert job.state == JobState.QUEUED and job.attempts >= 1
    # And the retry applies it whole, once
    await Job.filter(id=job.id).update(run_at=utcnow())  # its backoff skipped
    await worker.run_until_idle()
    note = await Note.get(uri=create["object"]["id"])
    assert await NoteTag.filter(note=note).count() == 3
    assert (await note.account).notes_count == 1
    assert (await Job.get(id=job.id)).state == JobState.DONE


# --- FLT-09 ------------------------------------------------------------------------------------


def _sqlite_path(db: str) -> str:
    if is_postgres(db):
        pytest.skip("SQLite locking (FLT-09)")
    return db.removeprefix("sqlite://")


async def test_flt09_sqlite_runs_in_wal_with_a_busy_timeout(db: str) -> None:
    _sqlite_path(db)
    conn = connections.get("default")
    _, [mode] = await conn.execute_query("PRAGMA journal_mode")
    _, [timeout] = await conn.execute_query("PRAGMA busy_timeout")
    assert str(mode[0]).lower() == "wal"
    assert int(timeout[0]) >= 5000


def _hold_write_lock(path: str, seconds: float, taken: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _keep_writing(path: str, until: float) -> int:
    """Many short write transactions from another connection, as a second process makes."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    written = 0
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS flt09_other (n INTEGER)")
        while time.monotonic() < until:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO flt09_other VALUES (?)", (written,))
            conn.execute("COMMIT")
            written += 1
            time.sleep(0.002)
        conn.execute("DROP TABLE flt09_other")
    finally:
        conn.close()
    return written


async def test_flt09_writers_wait_for_the_lock_and_nothing_is_lost(
    client, worker, runtime, db: str, remote: FakeInstance, alice
) -> None:
    path = _sqlite_path(db)
    bob = remote.add_actor("bob")
    await warm(runtime, bob)
    creates = [remote.activity(bob, "Create", remote.note(bob)) for _ in range(20)]
    # While another connection holds the write lock for 1.5 s, twenty activities arrive
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 1.5, taken))
    holder.start()
    assert await asyncio.to_thread(taken.wait, 10)
    try:
        responses = await asyncio.gather(*(remote.post(client, bob, "/inbox", c) for c in creates))
    finally:
        await asyncio.to_thread(holder.join)
    # Then each waited for the lock and was stored (no "database is locked")
    assert [r.status_code for r in responses] == [202] * 20
    assert await Job.filter(kind="inbox").count() == 20
    # And while another connection keeps writing, the worker applies them all
    other = asyncio.create_task(asyncio.to_thread(_keep_writing, path, time.monotonic() + 2.0))
    await worker.run_until_idle()
    assert await other > 0
    for _ in range(5):  # a job that met the lock anyway is retried (its backoff skipped here)
        waiting = Job.filter(kind="inbox", state=JobState.QUEUED)
        if not await waiting.exists():
            break
        await waiting.update(run_at=utcnow())
        await worker.run_until_idle()
    assert await Note.filter(uri__in=[c["object"]["id"] for c in creates]).count() == 20
    assert not await Job.filter(kind="inbox").exclude(state=JobState.DONE).exists()
