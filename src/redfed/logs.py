"""Logging set-up, done once at start-up: one line per event, secrets redacted."""

from __future__ import annotations

import logging
import re

_SECRET_PATTERNS = [
    # Signature values and cookies never reach a log file.
    (re.compile(r'(signature=")[^"]*(")', re.I), r"\1[redacted]\2"),
    (re.compile(r"(session=)[^;\s]+", re.I), r"\1[redacted]"),
    (re.compile(r"(password[=:]\s*)\S+", re.I), r"\1[redacted]"),
]


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for pattern, replacement in _SECRET_PATTERNS:
            message = pattern.sub(replacement, message)
        record.msg, record.args = message, None
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Tortoise logs every query at DEBUG and aiosqlite is chatty: keep them quiet by default.
    for noisy in ("tortoise", "aiosqlite", "hypercorn.access", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
