"""`redfed user create|list|set-password|disable|enable`: local accounts from the command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from redfed.config import Settings
from redfed.errors import RedfedError


def register(commands: Any) -> None:
    user = commands.add_parser("user", help="manage local accounts")
    sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="create a local account (prints a generated password)")
    create.add_argument("name")
    create.add_argument("--admin", action="store_true", help="make the account an administrator")
    create.add_argument("--email", default=None)
    create.add_argument("--password-file", type=Path, help="read the password from this file")
    create.set_defaults(handler=cmd_create)

    sub.add_parser("list", help="list local accounts").set_defaults(handler=cmd_list)

    setpw = sub.add_parser("set-password", help="set a password (asks on the terminal)")
    setpw.add_argument("name")
    setpw.add_argument("--password-file", type=Path, help="read the password from this file")
    setpw.set_defaults(handler=cmd_set_password)

    actions = (("disable", "log out and refuse log-ins"), ("enable", "allow log-ins again"))
    for action, helptext in actions:
        cmd = sub.add_parser(action, help=helptext)
        cmd.add_argument("name")
        cmd.set_defaults(handler=cmd_disable if action == "disable" else cmd_enable)


def _with_database(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    from redfed.db import close_database, open_database

    async def go() -> int:
        await open_database(settings.database_url)
        try:
            return await work()
        finally:
            await close_database()

    try:
        return asyncio.run(go())
    except RedfedError as exc:
        print(f"redfed: {exc.public_message}", file=sys.stderr)
        return 1


def _read_password_file(path: Path) -> str:
    # One line; the trailing newline editors add is not part of the password.
    return path.read_text(encoding="utf-8").rstrip("\r\n")


def cmd_create(settings: Settings, args: argparse.Namespace) -> int:
    from redfed.services import accounts

    generated = args.password_file is None
    password = (
        accounts.generate_password() if generated else _read_password_file(args.password_file)
    )

    async def work() -> int:
        account = await accounts.create_local_account(
            settings, args.name, password, email=args.email, admin=args.admin
        )
        role = "admin" if args.admin else "user"
        print(f"Created {role} {account.username} ({account.url})")
        if generated:
            print(f"Password: {password}")
        return 0

    return _with_database(settings, work)


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from redfed.services import accounts

    async def work() -> int:
        for user in await accounts.list_local_users(limit=100_000):
            flags = [
                f
                for f, on in (
                    ("admin", user.is_admin),
                    ("disabled", user.disabled),
                    ("pending", not user.approved),
                )
                if on
            ]
            print(f"{user.account.username}\t{user.email or '-'}\t{','.join(flags) or 'active'}")
        return 0

    return _with_database(settings, work)


def cmd_set_password(settings: Settings, args: argparse.Namespace) -> int:
    from redfed.services import accounts

    if args.password_file is not None:
        password = _read_password_file(args.password_file)
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            print("redfed: the passwords do not match", file=sys.stderr)
            return 1

    async def work() -> int:
        user = await accounts.get_local_user(args.name)
        if user is None:
            print(f"redfed: no local user {args.name}", file=sys.stderr)
            return 1
        await accounts.set_password(settings, user, password)
        print(f"Password of {user.account.username} changed; its sessions were ended.")
        return 0

    return _with_database(settings, work)


def _set_disabled(settings: Settings, name: str, disabled: bool) -> int:
    from redfed.services import accounts

    async def work() -> int:
        user = await accounts.set_disabled(name, disabled)
        print(f"{user.account.username} is {'disabled' if disabled else 'enabled'}.")
        return 0

    return _with_database(settings, work)


def cmd_disable(settings: Settings, args: argparse.Namespace) -> int:
    return _set_disabled(settings, args.name, True)


def cmd_enable(settings: Settings, args: argparse.Namespace) -> int:
    return _set_disabled(settings, args.name, False)
