"""The Runtime bag: the long-lived things a process shares (settings, HTTP client, engines).

Built once at start-up by `app.py` or the CLI and passed explicitly to services, so nothing
is created at import and tests can build one per test app.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from redfed.config import Settings

if TYPE_CHECKING:
    from redfed.federation.http import SafeHttpClient
    from redfed.services.translation.engine import TranslationEngine


@dataclass
class Runtime:
    settings: Settings
    http: SafeHttpClient | None = None
    translator: TranslationEngine | None = None
    # Set whenever a job is enqueued, so an idle in-process worker wakes at once.
    jobs_waiting: asyncio.Event = field(default_factory=asyncio.Event)
    # Small per-process caches and rate-limit state, keyed by purpose.
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def require_http(self) -> SafeHttpClient:
        if self.http is None:
            raise RuntimeError("the HTTP client is not started (Runtime.http is None)")
        return self.http
