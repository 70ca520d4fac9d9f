"""`redfed translate list|available|install|install-file|remove`: the translation packages.

Exit codes: 0 done, 1 failed (bad package, unknown pair, index unreachable), 2 bad config.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

from redfed.config import Settings
from redfed.errors import RedfedError
from redfed.services.translation import models_admin
from redfed.services.translation.languages import normalize_language, packages_dir

Handler = Callable[[Settings, argparse.Namespace], int]


def register(commands: Any) -> None:
    group = commands.add_parser(
        "translate", help="manage offline translation packages (Argos Translate models)"
    )
    sub = group.add_subparsers(dest="translate_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="installed language pairs").set_defaults(handler=_guard(cmd_list))
    available = sub.add_parser("available", help="pairs offered by translation.index_url")
    available.set_defaults(handler=_guard(cmd_available))
    install = sub.add_parser("install", help="download and install a pair from the index")
    install.add_argument("source", metavar="FROM", help="source language code, e.g. zh")
    install.add_argument("target", metavar="TO", help="target language code, e.g. en")
    install.set_defaults(handler=_guard(cmd_install))
    from_file = sub.add_parser("install-file", help="install a .argosmodel file (offline)")
    from_file.add_argument("path", type=Path, metavar="PATH")
    from_file.set_defaults(handler=_guard(cmd_install_file))
    remove = sub.add_parser("remove", help="remove an installed pair")
    remove.add_argument("source", metavar="FROM")
    remove.add_argument("target", metavar="TO")
    remove.set_defaults(handler=_guard(cmd_remove))


def _guard(handler: Handler) -> Handler:
    """Print one clear line instead of a traceback for the failures people can fix."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return handler(settings, args)
        except RedfedError as exc:
            print(f"redfed: {exc.public_message}", file=sys.stderr)
        except urllib.error.URLError as exc:
            reason = getattr(exc, "reason", exc)
            print(f"redfed: cannot reach the package index or download: {reason}", file=sys.stderr)
        except (OSError, ValueError) as exc:  # unreadable file, full disk, bad JSON in the index
            print(f"redfed: {exc}", file=sys.stderr)
        return 1

    return run


def _row(info: models_admin.ModelInfo) -> str:
    names = f"{info.from_name or info.from_code} → {info.to_name or info.to_code}"
    version = f"  (version {info.version})" if info.version else ""
    return f"{info.from_code} → {info.to_code}  {names}{version}"


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    installed = models_admin.list_installed(packages_dir(settings))
    if not installed:
        print("No translation packages installed. See: redfed translate available")
    for info in installed:
        print(_row(info))
    return 0


def cmd_available(settings: Settings, args: argparse.Namespace) -> int:
    present = models_admin.list_installed(packages_dir(settings))
    installed = {(m.from_code, m.to_code) for m in present}
    for info in models_admin.list_available(settings.translation.index_url):
        mark = "  [installed]" if (info.from_code, info.to_code) in installed else ""
        print(_row(info) + mark)
    return 0


def _codes(args: argparse.Namespace) -> tuple[str, str] | None:
    # Package codes are argos' own (e.g. "zt" for traditional Chinese); only tidy the case.
    source, target = args.source.strip().lower(), args.target.strip().lower()
    if not normalize_language(source) or not normalize_language(target):
        print(f"redfed: {args.source!r} or {args.target!r} is not a language code", file=sys.stderr)
        return None
    return source, target


def cmd_install(settings: Settings, args: argparse.Namespace) -> int:
    codes = _codes(args)
    if codes is None:
        return 1
    print(f"Downloading {codes[0]} → {codes[1]} from {settings.translation.index_url} …")
    info = models_admin.install_from_index(
        packages_dir(settings), *codes, index_url=settings.translation.index_url
    )
    print(f"Installed {_row(info)}")
    return 0


def cmd_install_file(settings: Settings, args: argparse.Namespace) -> int:
    if not args.path.is_file():
        print(f"redfed: {args.path} is not a file", file=sys.stderr)
        return 1
    info = models_admin.install_from_file(packages_dir(settings), args.path)
    print(f"Installed {_row(info)}")
    return 0


def cmd_remove(settings: Settings, args: argparse.Namespace) -> int:
    codes = _codes(args)
    if codes is None:
        return 1
    if not models_admin.remove(packages_dir(settings), *codes):
        print(f"redfed: {codes[0]} → {codes[1]} is not installed", file=sys.stderr)
        return 1
    print(f"Removed {codes[0]} → {codes[1]}")
    return 0
