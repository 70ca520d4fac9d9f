"""create_app(settings) -> Quart: blueprints, error handlers, and the lifespan of shared parts."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from quart import Quart, Response

from redfed import __version__
from redfed.config import Settings
from redfed.db import close_database, open_database
from redfed.federation.http import SafeHttpClient
from redfed.gc_tuning import WarmupFreeze, freeze_long_lived
from redfed.runtime import Runtime
from redfed.web import blueprints
from redfed.web.errors import register_error_handlers
from redfed.web.inbox import InboxFastPath
from redfed.worker.handlers import default_handlers, schedule_periodic_jobs
from redfed.worker.runner import Worker

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = PROJECT_ROOT / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def create_app(
    settings: Settings,
    *,
    start_worker: bool | None = None,
    manage_database: bool = True,
    freeze_gc: bool = False,
) -> Quart:
    """Build the app. The worker runs in-process unless `worker.in_process` is false
    (or `start_worker=False`, as tests do to run jobs explicitly with `run_until_idle`).
    `manage_database=False` leaves opening and closing the database to the caller (tests).
    `freeze_gc=True` is for a server process (see gc_tuning): not for tests, which build
    many apps in one process and whose frozen objects would never be collected."""
    app = Quart(
        "redfed",
        static_folder=str(STATIC_DIR),
        static_url_path="/static",
        template_folder=str(TEMPLATES_DIR),
    )
    runtime = Runtime(settings=settings)
    worker = Worker(runtime, default_handlers(), concurrency=settings.worker.concurrency)
    app.config.update(
        REDFED_RUNTIME=runtime,
        REDFED_WORKER=worker,
        MAX_CONTENT_LENGTH=settings.server.max_body_bytes,
        # Quart's default 60 s body timeout is generous for slow uploads on phones; keep it.
        SERVER_NAME=None,
    )
    app.jinja_env.globals["redfed_version"] = __version__
    register_error_handlers(app)
    for blueprint in blueprints.all_blueprints():
        app.register_blueprint(blueprint)
    # Inbox POSTs skip Quart's request machinery (see web/inbox.py); the rest goes through it.
    app.asgi_app = InboxFastPath(  # type: ignore[method-assign]
        app.asgi_app, runtime, body_timeout=float(app.config["BODY_TIMEOUT"])
    )
    run_worker = settings.worker.in_process if start_worker is None else start_worker

    @app.before_serving
    async def start() -> None:
        if manage_database:
            await open_database(settings.database_url)
        runtime.http = SafeHttpClient(
            allow_private_addresses=settings.federation.allow_private_addresses,
            user_agent=f"redfed/{__version__} (+{settings.base_url}/)",
            max_json_bytes=settings.federation.max_json_bytes,
            max_media_bytes=settings.media.remote_max_bytes,
        )
        await runtime.http.__aenter__()
        if run_worker:
            await schedule_periodic_jobs()  # feed maintenance, housekeeping (once per period)
            app.config["REDFED_WORKER_TASK"] = asyncio.create_task(worker.run_forever())

    @app.after_serving
    async def stop() -> None:
        task = app.config.get("REDFED_WORKER_TASK")
        if task is not None:
            worker.stop()
            await task  # the batch in hand finishes; queued jobs stay in the database (FLT-10)
        if runtime.translator is not None:
            runtime.translator.close()
        if runtime.http is not None:
            await runtime.http.__aexit__(None, None, None)
        if manage_database:
            await close_database()

    if freeze_gc:
        _freeze_long_lived_objects(app)
    return app


def _freeze_long_lived_objects(app: Quart) -> None:
    """gc_tuning's policy: freeze once started (after the start-up hook above), and once more
    after the first requests."""
    warmup = WarmupFreeze()

    @app.before_serving
    async def freeze_started() -> None:
        freeze_long_lived()

    @app.after_request
    async def count_warmup(response: Response) -> Response:
        warmup.request_done()
        return response
