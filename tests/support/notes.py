"""Helpers for note tests: accounts straight in the database, real images made with Pillow,
and the federate jobs the outbox enqueued."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from redfed.models import Account, Job

BASE = "https://redfed.test"


async def account(username: str, *, domain: str | None = None, **fields: Any) -> Account:
    """A local (domain None) or remote account row, as the accounts/federation code stores it."""
    if domain is None:
        uri, url = f"{BASE}/users/{username}", f"{BASE}/@{username}"
    else:
        uri, url = f"https://{domain}/users/{username}", f"https://{domain}/@{username}"
    return await Account.create(
        username=username,
        domain=domain,
        uri=uri,
        url=url,
        inbox_uri=f"{uri}/inbox",
        **fields,
    )


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (24, 16), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


async def federate_events() -> list[dict[str, Any]]:
    """Payloads of every federate job, oldest first."""
    return [j.payload for j in await Job.filter(kind="federate").order_by("id")]
