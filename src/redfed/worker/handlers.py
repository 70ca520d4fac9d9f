"""Which function runs each job kind. One line per kind; the functions live in lower layers."""

from __future__ import annotations

from redfed.inbox.dispatch import process_inbox_job
from redfed.worker.runner import Handler


def default_handlers() -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    handlers["inbox"] = process_inbox_job
    return handlers
