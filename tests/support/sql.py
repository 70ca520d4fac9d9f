"""Every SQL statement the default Tortoise connection runs, with its time: what a page really
sends to the database (tests that a page writes nothing; bench/query_counter's counts)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tortoise import connections

_METHODS = (
    "execute_query",
    "execute_query_dict",
    "execute_insert",
    "execute_many",
    "execute_script",
)


@contextmanager
def recording() -> Iterator[list[tuple[str, float]]]:
    """Wrap the default connection's execute methods; yields the (sql, ms) list."""
    client = connections.get("default")
    cls = type(client)
    seen: list[tuple[str, float]] = []
    originals = {name: getattr(cls, name) for name in _METHODS}

    def wrap(original: Any) -> Any:
        async def wrapper(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return await original(self, query, *args, **kwargs)
            finally:
                seen.append((query, (time.perf_counter() - began) * 1000))

        return wrapper

    for name, original in originals.items():
        setattr(cls, name, wrap(original))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(cls, name, original)
