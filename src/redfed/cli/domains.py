"""`redfed domain block|unblock|list`: instance-level blocks of other servers."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from redfed.config import Settings
from redfed.db import close_database, open_database
from redfed.errors import ValidationError
from redfed.services import moderation


def register(commands: Any) -> None:
    domain = commands.add_parser("domain", help="block, unblock and list other servers")
    sub = domain.add_subparsers(dest="domain_command", metavar="ACTION", required=True)
    block = sub.add_parser("block", help="block a domain (and its subdomains)")
    block.add_argument("domain")
    block.add_argument(
        "--severity",
        choices=["suspend", "silence", "noop"],
        default="suspend",
        help="suspend: refuse traffic and remove its content (default); "
        "silence: keep out of public pages; noop: only --reject-media",
    )
    block.add_argument("--reject-media", action="store_true", help="never fetch its media")
    block.add_argument("--reason", default="", help="a note for other moderators")
    block.set_defaults(handler=_sync(_block))
    unblock = sub.add_parser("unblock", help="lift a domain block")
    unblock.add_argument("domain")
    unblock.set_defaults(handler=_sync(_unblock))
    listing = sub.add_parser("list", help="list blocked domains")
    listing.set_defaults(handler=_sync(_list))


def _sync(
    handler: Callable[[argparse.Namespace], Awaitable[int]],
) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        async def go() -> int:
            await open_database(settings.database_url)
            try:
                return await handler(args)
            except ValidationError as exc:
                print(f"redfed: {exc.public_message}")
                return 2
            finally:
                await close_database()

        return asyncio.run(go())

    return run


async def _block(args: argparse.Namespace) -> int:
    block = await moderation.block_domain(
        args.domain, severity=args.severity, reject_media=args.reject_media, reason=args.reason
    )
    print(
        f"Blocked {block.domain} ({block.severity}"
        f"{', media rejected' if block.reject_media else ''})."
    )
    return 0


async def _unblock(args: argparse.Namespace) -> int:
    found = await moderation.unblock_domain(args.domain)
    print(f"Unblocked {args.domain}." if found else f"{args.domain} was not blocked.")
    return 0 if found else 1


async def _list(args: argparse.Namespace) -> int:
    for block in await moderation.list_domain_blocks():
        media = " reject-media" if block.reject_media else ""
        print(f"{block.domain}\t{block.severity}{media}\t{block.reason}")
    return 0
