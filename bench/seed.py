"""Seeding helpers for the benchmarks: a scratch database (SQLite file under bench/.data/, or a
PostgreSQL database created and dropped here), migrated, and filled in one transaction with
accounts, photo notes (media rows with sizes and blurhash, no files), tags, likes, comments
and follows, by bulk inserts.
"""

from __future__ import annotations

import random
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from redfed.ids import new_id
from redfed.models import (
    Account,
    Follow,
    FollowState,
    Like,
    MediaAttachment,
    Note,
    NoteTag,
    Tag,
    Visibility,
)
from redfed.services.registration import SUGGESTED_INTERESTS

DATA_DIR = Path(__file__).resolve().parent / ".data"
# The sign-up suggestions first (seeded people pick their interests among them), then more.
TAGS = [
    *SUGGESTED_INTERESTS,
    "coffee",
    "matcha",
    "hiking",
    "cats",
    "dogs",
    "ramen",
    "chengdu",
    "shanghai",
    "tokyo",
    "paris",
    "skincare",
    "diy",
    "garden",
    "camping",
    "cycling",
    "running",
    "yoga",
    "baking",
    "streetfood",
    "hotpot",
    "museum",
    "film",
    "vintage",
    "knitting",
]
BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
BATCH = 5000


@dataclass(frozen=True)
class Seeded:
    """What the benchmark needs to find again."""

    busy_note_path: str  # a note page with 50 comments
    profile_path: str
    viewer_name: str
    viewer_password: str
    notes: int
    accounts: int


@asynccontextmanager
async def postgres_scratch(server_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database on the server of `server_url` (never the tables of the
    database named there); dropped afterwards."""
    name = f"redfed_bench_{uuid.uuid4().hex[:10]}"
    await _pg_admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        await _pg_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _pg_admin(server_url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def sqlite_scratch(name: str) -> str:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite://{path}"


def _ids_between(rng: random.Random, start: datetime, end: datetime, n: int) -> list[int]:
    """n distinct time-sortable ids spread between start and end, ascending."""
    span = (end - start).total_seconds()
    ids: set[int] = set()
    while len(ids) < n:
        ids.add(new_id(start + timedelta(seconds=rng.random() * span)))
    return sorted(ids)


async def _bulk(model: Any, rows: list[Any]) -> None:
    for i in range(0, len(rows), BATCH):
        await model.bulk_create(rows[i : i + BATCH])


def _account(
    i: int, account_id: int, base_url: str, created: datetime, rng: random.Random
) -> Account:
    name = f"user{i:04d}"
    actor = f"{base_url}/users/{name}"
    return Account(
        id=account_id,
        username=name,
        display_name=f"Person {i}",
        uri=actor,
        url=f"{base_url}/@{name}",
        inbox_uri=f"{actor}/inbox",
        outbox_uri=f"{actor}/outbox",
        followers_uri=f"{actor}/followers",
        following_uri=f"{actor}/following",
        public_key_id=f"{actor}#main-key",
        public_key_pem="-",
        private_key_pem=None,
        languages=[rng.choice(["en", "zh"])],
        interests=rng.sample(SUGGESTED_INTERESTS, 3),
        created_at=created,
        updated_at=created,
    )


def _note(note_id: int, author: Account, base_url: str, rng: random.Random, **extra: Any) -> Note:
    at = datetime.fromtimestamp(((note_id >> 16) + 1_704_067_200_000) / 1000, tz=UTC)
    return Note(
        id=note_id,
        account_id=author.id,
        uri=f"{author.uri}/notes/{note_id}",
        url=f"{base_url}/@{author.username}/{note_id}",
        title=extra.pop("title", ""),
        content_html=extra.pop("content_html", "<p>A photo note from the benchmark seed.</p>"),
        language=rng.choice(["en", "zh"]),
        visibility=Visibility.PUBLIC,
        published_at=at,
        **extra,
    )


async def seed(
    base_url: str,
    *,
    accounts: int = 1000,
    notes: int = 100_000,
    likes: int = 300_000,
    comments: int = 20_000,
    follows_each: int = 30,
    seed_value: int = 7,
) -> Seeded:
    """Fill the (migrated, open) database; everything in one transaction."""
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    start = now - timedelta(days=60)
    started = time.monotonic()
    async with in_transaction():
        born = start - timedelta(days=1)
        account_ids = _ids_between(rng, born - timedelta(days=30), born, accounts)
        people = [_account(i, aid, base_url, born, rng) for i, aid in enumerate(account_ids)]
        await _bulk(Account, people)
        tag_rows = [Tag(id=i + 1, name=name) for i, name in enumerate(TAGS)]
        await _bulk(Tag, tag_rows)

        note_ids = _ids_between(rng, start, now - timedelta(minutes=10), notes)
        authors = [rng.choice(people) for _ in note_ids]
        like_pairs = {(rng.randrange(accounts), rng.randrange(notes)) for _ in range(likes)}
        like_counts = [0] * notes
        for _a, n in like_pairs:
            like_counts[n] += 1
        comment_parents = [rng.randrange(notes) for _ in range(comments)]
        comment_counts = [0] * notes
        for n in comment_parents:
            comment_counts[n] += 1
        busy = notes - 1  # the newest note gets 50 comments on top
        comment_counts[busy] += 50
        note_rows = [
            _note(
                nid,
                authors[k],
                base_url,
                rng,
                title=f"Note {k}: {rng.choice(TAGS)} day",
                likes_count=like_counts[k],
                comments_count=comment_counts[k],
                collects_count=0,
                engagement=like_counts[k] * 1.0,
            )
            for k, nid in enumerate(note_ids)
        ]
        await _bulk(Note, note_rows)
        del note_rows
        media = []
        for k, nid in enumerate(note_ids):
            for pos in range(1 + (k % 10 == 0) * 2):
                w, h = rng.choice([(1080, 1440), (1080, 1080), (1440, 1080)])
                media.append(
                    MediaAttachment(
                        id=new_id(),
                        account_id=authors[k].id,
                        note_id=nid,
                        position=pos,
                        file_key=secrets.token_hex(16),
                        display_mime="image/jpeg",
                        thumb_mime="image/jpeg",
                        width=w,
                        height=h,
                        thumb_width=w // 3,
                        thumb_height=h // 3,
                        blurhash=BLURHASH,
                        size_bytes=200_000,
                        created_at=now,
                    )
                )
        await _bulk(MediaAttachment, media)
        del media
        tags = [
            NoteTag(note_id=nid, tag_id=t)
            for nid in note_ids
            for t in rng.sample(range(1, len(TAGS) + 1), rng.randint(1, 3))
        ]
        await _bulk(NoteTag, tags)
        del tags
        await _bulk(
            Like,
            [
                Like(id=new_id(), account_id=people[a].id, note_id=note_ids[n], created_at=now)
                for a, n in like_pairs
            ],
        )
        await _seed_comments(rng, people, authors, note_ids, comment_parents, busy, base_url)
        await _seed_follows(rng, people, follows_each, now)
        await connections.get("default").execute_script(
            "UPDATE accounts SET notes_count = (SELECT count(*) FROM notes"
            " WHERE notes.account_id = accounts.id AND notes.in_reply_to_id IS NULL),"
            " followers_count = (SELECT count(*) FROM follows WHERE followee_id = accounts.id),"
            " following_count = (SELECT count(*) FROM follows WHERE follower_id = accounts.id)"
        )
    print(
        f"  seeded {accounts} accounts, {notes} notes, {len(like_pairs)} likes, "
        f"{comments + 50} comments in {time.monotonic() - started:.1f} s"
    )
    busy_author = authors[busy]
    return Seeded(
        busy_note_path=f"/@{busy_author.username}/{note_ids[busy]}",
        profile_path=f"/@{people[1].username}",
        viewer_name="",
        viewer_password="",
        notes=notes,
        accounts=accounts,
    )


async def _seed_comments(
    rng: random.Random,
    people: list[Account],
    authors: list[Account],
    note_ids: list[int],
    parents: list[int],
    busy: int,
    base_url: str,
) -> None:
    rows: list[Note] = []
    for n in [*parents, *([busy] * 50)]:
        author = rng.choice(people)
        parent_id = note_ids[n]
        cid = new_id()
        rows.append(
            _note(
                cid,
                author,
                base_url,
                rng,
                content_html="<p>Lovely! Where is this?</p>",
                in_reply_to_id=parent_id,
                root_id=parent_id,
                in_reply_to_uri=f"{authors[n].uri}/notes/{parent_id}",
            )
        )
    await _bulk(Note, rows)


async def _seed_follows(
    rng: random.Random, people: list[Account], each: int, now: datetime
) -> None:
    rows = []
    for i, person in enumerate(people):
        for j in rng.sample(range(len(people)), each):
            if j != i:
                rows.append(
                    Follow(
                        id=new_id(),
                        follower_id=person.id,
                        followee_id=people[j].id,
                        state=FollowState.ACCEPTED,
                        created_at=now,
                    )
                )
    await _bulk(Follow, rows)
