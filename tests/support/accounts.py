"""Helpers for tests that log in through the real forms."""

from __future__ import annotations

import re
from typing import Any

TEST_PASSWORD = "correct horse battery staple"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def page_token(client: Any, path: str = "/login") -> str:
    """The CSRF token a page's forms carry (and, logged out, the pre-session cookie it sets)."""
    response = await client.get(path)
    return csrf_from(await response.get_data(as_text=True))


async def login_client(client: Any, account: Any, password: str = TEST_PASSWORD) -> str:
    token = await page_token(client, "/login")
    response = await client.post(
        "/login", form={"username": account.username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, await response.get_data(as_text=True)
    return await page_token(client, "/settings/account")
