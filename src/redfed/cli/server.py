"""`redfed run`, `redfed migrate`, `redfed worker`: serving, schema migrations, background jobs."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from redfed.config import Settings
from redfed.logs import configure_logging

log = logging.getLogger(__name__)


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


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from redfed.db import close_database, migrate_database

    configure_logging()

    async def go() -> None:
        await migrate_database(settings.database_url)
        await close_database()

    asyncio.run(go())
    print("Database is up to date.")
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging()
    asyncio.run(_serve(settings, migrate=not args.no_migrate, first_admin=not args.no_first_admin))
    return 0


async def _serve(settings: Settings, *, migrate: bool, first_admin: bool) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from redfed.app import create_app
    from redfed.db import close_database, migrate_database, open_database
    from redfed.services.accounts import ensure_first_admin

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        await migrate_database(settings.database_url)
    await open_database(settings.database_url)
    if first_admin:
        created = await ensure_first_admin(settings)
        if created is not None:
            name, password = created
            print(f"Created the first admin account: {name}  password: {password}")
            print("This password is shown only once. Change it under Settings after logging in.")
    await close_database()

    config = Config()
    config.bind = [f"{settings.server.host}:{settings.server.port}"]
    config.accesslog = None
    # Hypercorn's own handler would print every line twice beside ours.
    config.errorlog = logging.getLogger("hypercorn.error")
    if settings.server.tls_cert:
        config.certfile, config.keyfile = settings.server.tls_cert, settings.server.tls_key
    # Slowloris (RES-09): drop connections that trickle headers.
    config.read_timeout = 30
    config.keep_alive_timeout = 10
    config.graceful_timeout = 20
    app = create_app(settings)
    shutdown = _shutdown_event()
    scheme = "https" if settings.server.tls_cert else "http"
    host = (
        "localhost"
        if settings.server.host in ("127.0.0.1", "0.0.0.0", "::")  # noqa: S104 - a comparison
        else settings.server.host
    )
    print(
        f"redfed is running: open {scheme}://{host}:{settings.server.port}/ (Ctrl+C to stop)",
        flush=True,
    )
    await serve(app, config, shutdown_trigger=shutdown.wait)  # type: ignore[arg-type]


def _shutdown_event() -> asyncio.Event:
    """SIGINT/SIGTERM finish in-flight requests and the worker's batch, then exit (FLT-10)."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, event.set)
    return event


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging()
    asyncio.run(_work(settings))
    return 0


async def _work(settings: Settings) -> None:
    from redfed import __version__
    from redfed.db import close_database, open_database
    from redfed.federation.http import SafeHttpClient
    from redfed.runtime import Runtime
    from redfed.worker.handlers import default_handlers
    from redfed.worker.runner import Worker

    await open_database(settings.database_url)
    runtime = Runtime(settings=settings)
    async with SafeHttpClient(
        allow_private_addresses=settings.federation.allow_private_addresses,
        user_agent=f"redfed/{__version__} (+{settings.base_url}/)",
        max_json_bytes=settings.federation.max_json_bytes,
        max_media_bytes=settings.media.remote_max_bytes,
    ) as http:
        runtime.http = http
        worker = Worker(runtime, default_handlers(), concurrency=settings.worker.concurrency)
        shutdown = _shutdown_event()
        stopper = asyncio.create_task(_stop_on(shutdown, worker))
        await worker.run_forever()
        stopper.cancel()
    await close_database()


async def _stop_on(event: asyncio.Event, worker: Any) -> None:
    await event.wait()
    worker.stop()
