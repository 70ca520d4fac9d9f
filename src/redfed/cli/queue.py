"""`redfed queue status` and `redfed queue retry [--domain D] [--dead]`: the job queue by hand."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from redfed.config import Settings


def register(commands: Any) -> None:
    queue = commands.add_parser("queue", help="inspect and retry background jobs (deliveries)")
    sub = queue.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    status = sub.add_parser("status", help="pending/failed counts by kind, and failing domains")
    status.set_defaults(handler=cmd_status)
    retry = sub.add_parser("retry", help="make queued (and with --dead, dead) jobs due now")
    retry.add_argument("--domain", default="", help="only jobs for this remote domain")
    retry.add_argument("--dead", action="store_true", help="also revive jobs that gave up")
    retry.set_defaults(handler=cmd_retry)


def _run(settings: Settings, work: Any) -> Any:
    from redfed.db import close_database, open_database

    async def go() -> Any:
        await open_database(settings.database_url)
        try:
            return await work()
        finally:
            await close_database()

    return asyncio.run(go())


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from redfed.models import DomainHealth
    from redfed.services.jobs import queue_counts

    async def work() -> tuple[dict[str, dict[str, int]], list[DomainHealth]]:
        failing = DomainHealth.filter(consecutive_failures__gt=0).order_by("-consecutive_failures")
        unavailable = DomainHealth.filter(unavailable=True)
        rows = {h.domain: h for h in [*await failing.limit(50), *await unavailable.limit(50)]}
        return await queue_counts(), list(rows.values())

    counts, domains = _run(settings, work)
    print(f"{'kind':<20}{'queued':>8}{'running':>9}{'done':>8}{'dead':>7}")
    for kind, states in sorted(counts.items()):
        cells = [states.get(s, 0) for s in ("queued", "running", "done", "dead")]
        print(f"{kind:<20}{cells[0]:>8}{cells[1]:>9}{cells[2]:>8}{cells[3]:>7}")
    if not counts:
        print("(no jobs)")
    if domains:
        print("\nfailing domains:")
        for h in domains:
            state = (
                "unavailable"
                if h.unavailable
                else "circuit open"
                if h.circuit_open_until
                else "failing"
            )
            print(
                f"  {h.domain}  {state}  failures in a row: {h.consecutive_failures}  "
                f"days: {len(h.failure_days)}  last error: {h.last_error[:80]}"
            )
    return 0


def cmd_retry(settings: Settings, args: argparse.Namespace) -> int:
    from redfed.services.jobs import retry_jobs

    async def work() -> int:
        return await retry_jobs(domain=args.domain or "", dead=args.dead)

    count = _run(settings, work)
    print(f"{count} job(s) are due now.")
    return 0
