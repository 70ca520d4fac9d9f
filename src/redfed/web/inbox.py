"""POST /users/<name>/inbox and the shared /inbox: read the body under a cap, hand it to receive.

The inboxes are the busiest endpoints and machine-only: no cookies, sessions, CSRF, templates
or redirects apply to them. `InboxFastPath` therefore answers their POSTs at the ASGI level,
before Quart builds a request context, opens a session and runs the page hooks, which together
cost about as much as the inbox's own work (bench/README.md). Everything else goes to Quart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from quart import Blueprint
from werkzeug.datastructures import Headers

from redfed.errors import PayloadTooLarge, RedfedError
from redfed.inbox.receive import InboxRequest, receive_activity
from redfed.runtime import Runtime

log = logging.getLogger(__name__)

# No routes: `InboxFastPath` (installed around the app by create_app) answers the inboxes.
# Kept so the blueprint list names every resource.
bp = Blueprint("inbox", __name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The inbox paths: a username is one path segment, as in Werkzeug's default converter.
_INBOX_PATH = re.compile(r"/inbox|/users/([^/]+)/inbox")
# The headers every answer carries (web/security.py adds them to Quart's responses, WEB-09).
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class _ClientGone(Exception):  # noqa: N818 - reads as a sentence at the raise site
    """The client disconnected before its body was read: there is no one to answer."""


class InboxFastPath:
    """ASGI wrapper around the Quart app: POST /inbox and /users/<name>/inbox go straight to
    `receive_activity`; every other request goes to `app`. Errors answer JSON `{"error": …}`
    (a remote server is the only sender), with the status Quart's error handlers would give."""

    def __init__(self, app: AsgiApp, runtime: Runtime, *, body_timeout: float) -> None:
        self.app, self.runtime, self.body_timeout = app, runtime, body_timeout
        settings = runtime.settings
        self.cap = min(settings.federation.max_inbox_bytes, settings.server.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = _INBOX_PATH.fullmatch(scope["path"])
            if match is not None:
                await self._inbox(scope, receive, send, match.group(1))
                return
        await self.app(scope, receive, send)

    async def _inbox(self, scope: Scope, receive: Receive, send: Send, user: str | None) -> None:
        try:
            headers = Headers(
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
            )
            body = await self._read_capped(headers, receive)
            raw_path = scope.get("raw_path") or scope["path"].encode()
            path, _, query = raw_path.decode("latin-1").partition("?")
            await receive_activity(
                self.runtime,
                InboxRequest(
                    method="POST",
                    path=path,
                    query=query or scope.get("query_string", b"").decode("latin-1"),
                    headers=headers,  # type: ignore[arg-type]  # Headers keeps repeated fields
                    body=body,
                    recipient=user,
                ),
            )
        except _ClientGone:
            return
        except RedfedError as exc:  # SignatureError is one (401)
            if exc.status >= 500:
                log.error("request.error path=%s detail=%s", scope["path"], exc.detail)
            await _answer(send, exc.status, {"error": exc.public_message})
            return
        except Exception:  # noqa: BLE001 - the request boundary, as Quart's own 500 handler
            log.exception("request.failed path=%s", scope["path"])
            await _answer(send, 500, {"error": RedfedError.public_message})
            return
        await _answer(send, 202, None)

    async def _read_capped(self, headers: Headers, receive: Receive) -> bytes:
        """The raw body, refused past the cap without reading the rest (RES-01), within Quart's
        body timeout (a body that trickles in holds a connection, not the process)."""
        length = headers.get("Content-Length", type=int)
        if length is not None and length > self.cap:
            raise PayloadTooLarge()
        buffer = bytearray()
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _ClientGone()
                    buffer += message.get("body", b"")
                    if len(buffer) > self.cap:
                        raise PayloadTooLarge()
                    if not message.get("more_body", False):
                        return bytes(buffer)
        except TimeoutError:
            raise _ClientGone() from None  # Quart answers 408 to no one either: just close


async def _answer(send: Send, status: int, document: dict[str, str] | None) -> None:
    body = b"" if document is None else json.dumps(document).encode()
    headers = [(b"content-length", str(len(body)).encode()), *_SECURITY_HEADERS]
    if document is not None:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
