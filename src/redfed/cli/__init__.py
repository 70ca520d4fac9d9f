"""The `redfed` command: `redfed --help` lists the command groups, each with its own --help."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

# Each module adds its sub-commands with `register(subparsers)`; one line per group here.
from redfed.cli import domains, queue, server, translate, users
from redfed.config import Settings, load_settings
from redfed.errors import ConfigError

COMMAND_GROUPS = [server, translate, queue, domains, users]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redfed", description="redfed: a federated server for photo-first lifestyle notes."
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="settings file (default: $REDFED_CONFIG, else instance-config/redfed.toml if present)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def load_or_exit(path: Path | None) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as exc:
        print(f"redfed: {exc.detail}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_or_exit(args.config)
    try:
        return int(args.handler(settings, args) or 0)
    except ConfigError as exc:
        print(f"redfed: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
