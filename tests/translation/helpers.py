"""Rows and engines for translation tests: accounts and notes written directly, counting engine."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from redfed.config import Settings
from redfed.ids import new_id
from redfed.models import Account, Note, Visibility
from redfed.services.translation import models_admin
from redfed.services.translation.engine import TranslationEngine
from redfed.services.translation.languages import packages_dir

BASE = "https://redfed.test"


async def make_account(
    username: str, *, domain: str | None = None, languages: list[str] | None = None, **fields: Any
) -> Account:
    host = domain or "redfed.test"
    return await Account.create(
        username=username,
        domain=domain,
        uri=f"https://{host}/users/{username}",
        languages=languages or [],
        **fields,
    )


async def make_note(
    account: Account,
    *,
    title: str = "",
    html: str = "",
    language: str = "zh",
    visibility: Visibility = Visibility.PUBLIC,
    spoiler_text: str = "",
) -> Note:
    note_id = new_id()
    return await Note.create(
        id=note_id,
        uri=f"{account.uri}/notes/{note_id}",
        account=account,
        title=title,
        content_html=html,
        language=language,
        visibility=visibility,
        spoiler_text=spoiler_text,
        published_at=datetime.now(UTC),
        local=account.domain is None,
    )


def install(
    settings: Settings, packages: dict[tuple[str, str], Path], *pairs: tuple[str, str]
) -> None:
    for pair in pairs:
        models_admin.install_from_file(packages_dir(settings), packages[pair])


class CountingEngine(TranslationEngine):
    """The real engine, counting how many batches reach it (to prove cache hits skip it)."""

    calls = 0

    def translate_texts_sync(self, texts: list[str], source: str, target: str) -> list[str]:
        self.calls += 1
        return super().translate_texts_sync(texts, source, target)


def counting_engine(settings: Settings) -> CountingEngine:
    return CountingEngine(packages_dir(settings))


def only_database_sockets(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> list[object]:
    """Refuse every outgoing connection except to the test database (PostgreSQL pools reconnect)."""
    parts = urlsplit(settings.database_url)
    allowed = {(parts.hostname, parts.port)} if parts.hostname else set()
    attempts: list[object] = []
    original = socket.socket.connect

    def guarded(self: socket.socket, address: Any, *args: Any) -> Any:
        is_db = isinstance(address, tuple) and tuple(address[:2]) in allowed
        if self.family == socket.AF_UNIX or is_db:
            return original(self, address, *args)
        attempts.append(address)
        raise ConnectionRefusedError(f"no network while translating: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts
