"""Helpers for feed tests: accounts, users and tagged notes written straight to the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from redfed.ids import new_id
from redfed.models import Account, Note, NoteTag, Tag, User, Visibility

NOW = datetime.now(UTC)
_serial = count(1)


async def account(
    name: str, *, domain: str | None = None, user: bool = False, **fields: Any
) -> Account:
    base = f"https://{domain or 'redfed.test'}"
    acc = await Account.create(
        username=name, domain=domain, uri=f"{base}/users/{name}", url=f"{base}/@{name}", **fields
    )
    if user:
        await User.create(account=acc, password_hash="x")
    return acc


async def note(
    author: Account,
    *tags: str,
    engagement: float = 0.0,
    hours_old: float = 1.0,
    visibility: Visibility = Visibility.PUBLIC,
    language: str = "en",
    **fields: Any,
) -> Note:
    published = NOW - timedelta(hours=hours_old)
    n = await Note.create(
        id=new_id(published),
        uri=f"{author.uri}/notes/{next(_serial)}",
        account=author,
        local=author.domain is None,
        title="t",
        published_at=published,
        engagement=engagement,
        visibility=visibility,
        language=language,
        **fields,
    )
    for t in tags:
        tag, _ = await Tag.get_or_create(name=t)
        await NoteTag.create(note=n, tag=tag)
    return n
