"""Time-sortable 64-bit ids (Snowflake-like): milliseconds since 2024-01-01 in the high bits.

Sortable ids make `max_id` / `min_id` paging a plain index range scan, and fit a BIGINT on
SQLite and PostgreSQL. 16 low bits: a per-process counter seeded randomly, so ids from several
processes (web and `redfed worker`) created in the same millisecond rarely collide, and the
primary key constraint catches the rare case.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from datetime import UTC, datetime

EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_SEQUENCE_BITS = 16
_SEQUENCE_MASK = (1 << _SEQUENCE_BITS) - 1

_lock = threading.Lock()
_last_ms = 0
_sequence = secrets.randbelow(1 << _SEQUENCE_BITS)


def _reseed() -> None:
    """A forked process (`server.workers`) must not go on from its parent's counter: both
    would make the same ids in the same millisecond."""
    global _sequence
    _sequence = secrets.randbelow(1 << _SEQUENCE_BITS)


os.register_at_fork(after_in_child=_reseed)


def new_id(at: datetime | None = None) -> int:
    """A new id for now (or for `at`, used when storing remote objects by their publish time)."""
    global _last_ms, _sequence
    if at is not None:
        # Many ids for one past instant (a batch of test notes, remote objects published in
        # the same second) take successive values of the process counter: a random low part
        # collided by the birthday rule (about 2 % for 50 ids at one instant).
        ms = max(0, int(at.timestamp() * 1000) - EPOCH_MS)
        with _lock:
            _sequence = (_sequence + 1) & _SEQUENCE_MASK
            return (ms << _SEQUENCE_BITS) | _sequence
    with _lock:
        ms = max(0, int(time.time() * 1000) - EPOCH_MS)
        if ms <= _last_ms:
            ms = _last_ms
            _sequence = (_sequence + 1) & _SEQUENCE_MASK
            if _sequence == 0:
                ms += 1  # counter wrapped within one millisecond: borrow the next one
        _last_ms = ms
        return (ms << _SEQUENCE_BITS) | _sequence


def id_time(snowflake: int) -> datetime:
    """When an id was made (to the millisecond)."""
    ms = (snowflake >> _SEQUENCE_BITS) + EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def min_id_for(at: datetime) -> int:
    """The smallest id that could have been made at `at`: for 'newer than' range queries."""
    ms = max(0, int(at.timestamp() * 1000) - EPOCH_MS)
    return ms << _SEQUENCE_BITS
