"""Count the SQL statements (and their time) each benchmarked page runs: the app in-process on
the seeded database, one request per page through Quart's test client, every statement the
Tortoise connection executes recorded. Finds N+1 queries and slow statements.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

from tests.support.sql import recording

from redfed.app import create_app
from redfed.config import load_settings
from redfed.db import close_database, open_database

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def count_queries(env: dict[str, str], seeded: Any, viewer: str, password: str) -> None:
    settings = load_settings(environ=env)
    await open_database(settings.database_url)
    app = create_app(settings, start_worker=False, manage_database=False)
    try:
        async with app.test_app():
            anon, user = app.test_client(), app.test_client()
            page = await (await user.get("/login")).get_data(as_text=True)
            token = _CSRF.search(page).group(1)  # type: ignore[union-attr]
            await user.post(
                "/login", form={"username": viewer, "password": password, "csrf_token": token}
            )
            for label, client, path in (
                ("Explore, anonymous", anon, "/"),
                ("Explore, logged in", user, "/"),
                ("note + 50 comments", user, seeded.busy_note_path),
                ("profile", anon, seeded.profile_path),
            ):
                await client.get(path)  # warm caches
                with recording() as seen:
                    began = time.perf_counter()
                    response = await client.get(path)
                    total = (time.perf_counter() - began) * 1000
                report(label, response.status_code, total, seen)
    finally:
        await close_database()


def report(label: str, status: int, total_ms: float, seen: list[tuple[str, float]]) -> None:
    sql_ms = sum(ms for _q, ms in seen)
    print(
        f"  {label}: HTTP {status}, {len(seen)} queries, {sql_ms:.1f} ms in SQL, "
        f"{total_ms:.1f} ms in all"
    )
    shapes = Counter(re.sub(r"\d+", "N", q)[:90] for q, _ms in seen)
    for shape, n in shapes.most_common(3):
        if n > 2:
            print(f"    ×{n} {shape}")
    for query, ms in sorted(seen, key=lambda qm: -qm[1])[:3]:
        print(f"    {ms:6.1f} ms {query[:160]}")
