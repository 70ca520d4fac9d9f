"""POST /users/<name>/inbox and the shared /inbox: read the body under a cap, hand it to receive."""

from __future__ import annotations

from quart import Blueprint, Response, current_app, request

from redfed.errors import PayloadTooLarge
from redfed.inbox.receive import InboxRequest, receive_activity
from redfed.runtime import Runtime

bp = Blueprint("inbox", __name__)


async def _read_capped(cap: int) -> bytes:
    """The raw body, refused past `cap` bytes without reading the rest (RES-01)."""
    if request.content_length is not None and request.content_length > cap:
        raise PayloadTooLarge()
    buffer = bytearray()
    async for chunk in request.body:
        buffer += chunk
        if len(buffer) > cap:
            raise PayloadTooLarge()
    return bytes(buffer)


async def _receive(recipient: str | None) -> Response:
    runtime: Runtime = current_app.config["REDFED_RUNTIME"]
    body = await _read_capped(runtime.settings.federation.max_inbox_bytes)
    raw_path = request.scope.get("raw_path") or request.path.encode()
    path, _, query = raw_path.decode("latin-1").partition("?")
    await receive_activity(
        runtime,
        InboxRequest(
            method=request.method,
            path=path,
            query=query or request.query_string.decode("latin-1"),
            headers=request.headers,  # type: ignore[arg-type]  # Headers keeps repeated fields
            body=body,
            recipient=recipient,
        ),
    )
    return Response("", status=202)


@bp.post("/inbox")
async def shared_inbox() -> Response:
    return await _receive(None)


@bp.post("/users/<username>/inbox")
async def personal_inbox(username: str) -> Response:
    return await _receive(username)
