"""The columns ranking needs of each candidate note, read by id and kept per process briefly.

Reading ~1,000 candidates' rows, tags and author engagement was most of an Explore request at
1M notes (≈ 30–60 ms on SQLite), and most candidates recur across requests: the popular and
new-creator pools are shared, interest retrieval favours the same busy tags. Rows are kept
ROW_TTL seconds (at most MAX_ROWS of them, the oldest read dropped first).

A kept row only steers ranking. It holds the rules that do not depend on the viewer as they
were when read (services.visibility's public listing: visibility, suspended or silenced
author, blocked domain), so a stale row can at worst put a note up for ranking that may no
longer be listed: Explore re-reads the page's notes live (`read_rows`) before showing them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from tortoise import connections
from tortoise.signals import post_save

from redfed.models import Note
from redfed.services.visibility import as_datetime, ids_in_sql, public_listing_rows, raw_rows

ROW_TTL = 60.0  # seconds a row is trusted for ranking
MAX_ROWS = 20_000  # ≈ 10 MB: twenty requests' worth of distinct candidates

# public_listing_rows' `columns` (n = notes, a = the author's account), in CandidateRow order.
_COLUMNS = (
    "n.id, n.account_id, n.language, n.published_at, n.engagement, a.followers_count,"
    " a.created_at, n.in_reply_to_id, n.in_reply_to_uri, a.discoverable, n.local, n.sensitive"
)


class CandidateRow(NamedTuple):
    """One listable note's ranking columns and Explore's rule inputs, as plain values.

    Tags as a tuple, not a frozenset: one object fewer per row for the garbage collector to
    walk (a full collection of the bench process went from ~40 to ~23 ms)."""

    id: int
    author_id: int
    language: str
    published_at: datetime
    engagement: float
    followers: int
    author_created_at: datetime
    is_reply: bool
    discoverable: bool
    local: bool
    sensitive: bool
    tags: tuple[str, ...]
    author_engagement: float


# id → (monotonic time read, the row's values or None when not publicly listable then).
# The values as a plain tuple, not a CandidateRow: a collection that meets an exact tuple of
# untracked values (numbers, strings, datetimes, tuples of strings) stops tracking it; CPython
# never does that for a NamedTuple. As NamedTuples the kept rows were 40,000 objects walked
# by every full collection (20–30 ms of each, the p99 tail of an Explore page).
_rows: dict[int, tuple[float, tuple[Any, ...] | None]] = {}
_conn: list[object] = [None]  # the database client the rows came from (tests reopen databases)


def forget_rows() -> None:
    _rows.clear()


async def cached_rows(ids: Sequence[int]) -> dict[int, CandidateRow]:
    """The publicly listable ones of `ids` (viewer-independent rules), from rows at most
    ROW_TTL old; the rest are read now."""
    conn = connections.get("default")
    if _conn[0] is not conn:
        forget_rows()
        _conn[0] = conn
    now = time.monotonic()
    out: dict[int, CandidateRow] = {}
    missing = []
    for i in ids:
        hit = _rows.get(i)
        if hit is None or now - hit[0] > ROW_TTL:
            missing.append(i)
        elif hit[1] is not None:
            out[i] = CandidateRow._make(hit[1])
    if missing:
        out.update(await read_rows(missing))
    return out


async def read_rows(ids: Sequence[int], *, signals: bool = True) -> dict[int, CandidateRow]:
    """The publicly listable ones of `ids` as they are now, kept for later requests.

    `signals=False` is the check of a page about to be shown: the rules' columns only (no
    tags, no author engagement), not kept."""
    if not ids:
        return {}
    raw = await public_listing_rows(None, ids, _COLUMNS)
    tags = await _tags([int(r[0]) for r in raw]) if signals else {}
    author_eng = await _author_engagement({int(r[1]) for r in raw}) if signals else {}
    found: dict[int, CandidateRow] = {}
    for r in raw:
        row = CandidateRow(
            id=int(r[0]),
            author_id=int(r[1]),
            language=sys.intern(r[2] or ""),
            published_at=as_datetime(r[3]),
            engagement=float(r[4]),
            followers=int(r[5]),
            author_created_at=as_datetime(r[6]),
            is_reply=r[7] is not None or r[8] != "",
            discoverable=bool(r[9]),
            local=bool(r[10]),
            sensitive=bool(r[11]),
            tags=tuple(tags.get(int(r[0]), ())),
            author_engagement=author_eng.get(int(r[1]), 0.0),
        )
        found[row.id] = row
    if signals:
        _keep(ids, found)
    else:
        for i in set(ids) - found.keys():  # no longer listable: not ranked again
            if i in _rows:
                _rows[i] = (time.monotonic(), None)
    return found


def _keep(ids: Sequence[int], found: dict[int, CandidateRow]) -> None:
    now = time.monotonic()
    for i in ids:
        _rows.pop(i, None)  # re-inserted last: the dict's order is the order read
        row = found.get(i)
        _rows[i] = (now, tuple(row) if row is not None else None)
    while len(_rows) > MAX_ROWS:
        del _rows[next(iter(_rows))]


@post_save(Note)
async def _note_saved(
    sender: type[Note], instance: Note, created: bool, using_db: object, update_fields: object
) -> None:
    """A note saved in this process is read afresh by the next request that ranks it."""
    _rows.pop(int(instance.id), None)


async def _tags(note_ids: list[int]) -> dict[int, list[str]]:
    if not note_ids:
        return {}
    cond, param = ids_in_sql("nt.note_id", note_ids)
    # Constant SQL; the ids travel as one parameter (see visibility.ids_in_sql).
    join = "note_tags nt JOIN tags t ON t.id = nt.tag_id"
    out: dict[int, list[str]] = {}
    sql = f"SELECT nt.note_id, t.name FROM {join} WHERE {cond}"  # noqa: S608
    for note_id, name in await raw_rows(sql, [param]):
        out.setdefault(int(note_id), []).append(sys.intern(str(name)))
    return out


async def _author_engagement(author_ids: set[int]) -> dict[int, float]:
    if not author_ids:
        return {}
    cond, param = ids_in_sql("account_id", sorted(author_ids))
    sql = f"SELECT account_id, engagement FROM feed_author_engagement WHERE {cond}"  # noqa: S608
    return {int(a): float(e) for a, e in await raw_rows(sql, [param])}
