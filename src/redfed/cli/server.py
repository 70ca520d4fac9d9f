"""`redfed run`, `redfed migrate`, `redfed worker`: serving, schema migrations, background jobs.

Start-up failures (port in use, unreachable database, bad URL) end the process with one line
and a non-zero status; nothing is announced before the server can accept connections.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from redfed.config import Settings
from redfed.errors import ConfigError, RedfedError
from redfed.logs import configure_logging

from .supervise import supervise

log = logging.getLogger(__name__)

# Hypercorn's default listen backlog.
_BACKLOG = 100


class StartupFailed(Exception):  # noqa: N818 - reads as a sentence at the raise site
    """Start-up stopped before serving; the message is the one line shown to the admin."""


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="serve the web app (and the in-process worker)")
    run.add_argument(
        "--no-migrate", action="store_true", help="do not apply pending migrations first"
    )
    run.add_argument(
        "--no-first-admin", action="store_true", help="do not create a first admin account"
    )
    run.set_defaults(handler=cmd_run)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=cmd_migrate)

    worker = commands.add_parser(
        "worker", help="run background jobs (deliveries, inbox) in this process"
    )
    worker.set_defaults(handler=cmd_worker)


def describe_failure(exc: BaseException) -> str:
    """One line for an admin: our own errors carry their detail, OS errors their reason."""
    if isinstance(exc, StartupFailed):
        return str(exc)
    if isinstance(exc, RedfedError):
        return str(exc.detail)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Phase:
    """Whether the process got as far as serving: failures before that are start-up failures."""

    serving = False


def _run_startup(main: Coroutine[Any, Any, None], phase: _Phase | None = None) -> int:
    """asyncio.run(main), turning a start-up failure into one line on stderr and status 1."""
    try:
        asyncio.run(main)
    except KeyboardInterrupt:
        return 130
    except ConfigError:
        raise  # `redfed` prints a bad setting's line itself and exits 2
    except Exception as exc:  # noqa: BLE001 - the start-up boundary, see below
        if phase is not None and phase.serving:
            log.exception("server.failed")
            return 1
        # The start-up boundary (BLE001 on purpose): say what failed in one line, then exit.
        log.debug("startup.failed", exc_info=True)
        print(f"redfed: could not start: {describe_failure(exc)}", file=sys.stderr, flush=True)
        return 1
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging()
    code = _run_startup(_migrate(settings))
    if code == 0:
        print("Database is up to date.", flush=True)
    return code


async def _migrate(settings: Settings) -> None:
    from redfed.db import close_database, migrate_database

    try:
        await _database_step("cannot migrate the database", migrate_database(settings.database_url))
    finally:
        # An open aiosqlite connection is a non-daemon thread: the process would never exit.
        await close_database()


async def _database_step(what: str, step: Coroutine[Any, Any, None]) -> None:
    try:
        await step
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - drivers raise their own types; name the step
        raise StartupFailed(f"{what}: {describe_failure(exc)}") from exc


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging()
    if settings.server.workers > 1 and not settings.database_url.startswith("postgres"):
        print(
            "redfed: server.workers > 1 needs PostgreSQL (SQLite has one writer at a time); "
            "set server.workers = 1",
            file=sys.stderr,
        )
        return 1
    try:
        # Bind before anything else: a port in use fails at once, before migrations.
        sock = _listen(settings.server.host, settings.server.port)
    except OSError as exc:
        where = f"{settings.server.host}:{settings.server.port}"
        reason = os.strerror(exc.errno) if exc.errno else describe_failure(exc)
        print(f"redfed: cannot listen on {where}: {reason}", file=sys.stderr)
        return 1
    with sock:
        if not args.no_migrate:
            code = _migrate_in_child(args)
            if code != 0:
                return code
        if settings.server.workers > 1:
            return _serve_processes(settings, sock, first_admin=not args.no_first_admin)
        phase = _Phase()
        return _run_startup(
            _serve(settings, sock, phase, first_admin=not args.no_first_admin), phase
        )


def _serve_processes(settings: Settings, sock: socket.socket, *, first_admin: bool) -> int:
    """`server.workers` processes accept on the one listening socket (the kernel spreads the
    connections); this process only starts them, passes on SIGINT/SIGTERM and waits. One
    Python process keeps one core busy at most: this is how the web side uses more.

    PostgreSQL only: SQLite takes one writer at a time, so a second process only waits for
    the first one's lock (and the inbox's group commit batches within one process)."""
    sys.stdout.flush()  # nothing buffered may be printed again by every child
    children: list[int] = []
    for index in range(settings.server.workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's status is what the parent reports
            code = 1
            try:
                phase = _Phase()
                # The first process alone makes the first admin and prints the ready line.
                main = _serve(
                    settings,
                    sock,
                    phase,
                    first_admin=first_admin and index == 0,
                    announce=index == 0,
                )
                code = _run_startup(main, phase)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)
    return supervise(children)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=_BACKLOG)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _migrate_in_child(args: argparse.Namespace) -> int:
    """`redfed migrate` in a child process with the same settings. A migration run holds ~30 MB
    of Python objects at its peak (Tortoise replays the schema state) and a process keeps that
    memory after freeing it; in a child it goes back to the system when the child exits."""
    command = [sys.executable, "-m", "redfed.cli"]
    if args.config is not None:
        command += ["--config", str(args.config)]
    # The child inherits the environment (REDFED_* overrides) and prints its own failure line.
    result = subprocess.run([*command, "migrate"], stdout=subprocess.DEVNULL, check=False)  # noqa: S603
    return result.returncode


async def _serve(
    settings: Settings,
    sock: socket.socket,
    phase: _Phase,
    *,
    first_admin: bool,
    announce: bool = True,
) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.utils import LifespanFailureError

    from redfed.app import create_app
    from redfed.db import close_database

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        await _database_step("cannot open the database", _open_checked(settings.database_url))
        if first_admin:
            await _ensure_first_admin(settings)
        # A server process: long-lived objects out of the collector's sight (gc_tuning).
        app = create_app(settings, manage_database=False, freeze_gc=True)
        # Registered after the app's own start-up hook, so it runs only once that succeeded;
        # the socket is already listening, so a client that reads the line can connect.
        app.before_serving(_announcer(settings, phase, announce))
        # Hypercorn takes the bound socket by its descriptor (`fd://`) and closes it itself.
        config = _hypercorn_config(settings, sock.detach())
        await serve(app, config, shutdown_trigger=_shutdown_event().wait)
    except LifespanFailureError as exc:
        # Hypercorn wraps the app's start-up error; its message is the original one.
        raise StartupFailed(exc.args[-1] if exc.args else str(exc)) from exc
    finally:
        await close_database()


async def _open_checked(database_url: str) -> None:
    """Open the database and run one query: Tortoise connects lazily, so a wrong host or
    password would otherwise surface in the middle of start-up, far from its cause."""
    from tortoise import connections

    from redfed.db import open_database

    await open_database(database_url)
    await connections.get("default").execute_query("SELECT 1")


async def _ensure_first_admin(settings: Settings) -> None:
    from redfed.services.accounts import ensure_first_admin

    created = await ensure_first_admin(settings)
    if created is not None:
        name, password = created
        print(f"Created the first admin account: {name}  password: {password}")
        print("This password is shown only once. Change it under Settings after logging in.")


def _hypercorn_config(settings: Settings, fd: int) -> Any:
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None
    # Hypercorn's own handler would print every line twice beside ours.
    config.errorlog = logging.getLogger("hypercorn.error")
    if settings.server.tls_cert:
        config.certfile, config.keyfile = settings.server.tls_cert, settings.server.tls_key
    # Slowloris (RES-09): drop connections that trickle headers.
    config.read_timeout = 30
    config.keep_alive_timeout = 10
    config.graceful_timeout = 20
    return config


def announce_line(settings: Settings) -> str:
    scheme = "https" if settings.server.tls_cert else "http"
    host = (
        "localhost"
        if settings.server.host in ("127.0.0.1", "0.0.0.0", "::")  # noqa: S104 - a comparison
        else settings.server.host
    )
    return f"redfed is running: open {scheme}://{host}:{settings.server.port}/ (Ctrl+C to stop)"


def _announcer(
    settings: Settings, phase: _Phase, say: bool = True
) -> Callable[[], Awaitable[None]]:
    async def announce() -> None:
        phase.serving = True
        if say:
            print(announce_line(settings), flush=True)

    return announce


def _shutdown_event() -> asyncio.Event:
    """SIGINT/SIGTERM finish in-flight requests and the worker's batch, then exit (FLT-10)."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, event.set)
    return event


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging()
    return _run_startup(_work(settings))


async def _work(settings: Settings) -> None:
    from redfed import __version__
    from redfed.db import close_database, open_database
    from redfed.federation.http import SafeHttpClient
    from redfed.runtime import Runtime
    from redfed.worker.handlers import default_handlers, schedule_periodic_jobs
    from redfed.worker.runner import Worker

    try:
        await open_database(settings.database_url)
        # The periodic chains, as the in-process worker starts them (idempotent per period).
        await schedule_periodic_jobs()
        runtime = Runtime(settings=settings)
        async with SafeHttpClient(
            allow_private_addresses=settings.federation.allow_private_addresses,
            user_agent=f"redfed/{__version__} (+{settings.base_url}/)",
            max_json_bytes=settings.federation.max_json_bytes,
            max_media_bytes=settings.media.remote_max_bytes,
        ) as http:
            runtime.http = http
            worker = Worker(runtime, default_handlers(), concurrency=settings.worker.concurrency)
            stopper = asyncio.create_task(_stop_on(_shutdown_event(), worker))
            print("redfed worker is running (Ctrl+C to stop)", flush=True)
            await worker.run_forever()
            stopper.cancel()
    finally:
        await close_database()


async def _stop_on(event: asyncio.Event, worker: Any) -> None:
    await event.wait()
    worker.stop()
