"""Serving stored media: `/media/<key>` and `/media/<key>/thumb`.

Files are only served while their row exists and, for photos of notes, while the viewer may
see the note (MED-06). Responses are never sniffed and never run as a document (sandbox CSP).
"""

from __future__ import annotations

import asyncio
from typing import Any

from quart import Blueprint, Response, g

from redfed.errors import NotFound
from redfed.models import MediaAttachment, Note
from redfed.services.media import is_media_key, media_path
from redfed.services.visibility import can_view
from redfed.web import security

bp = Blueprint("media", __name__)
_CSP = "default-src 'none'; sandbox"


async def _serve(key: str, thumb: bool) -> Any:
    if not is_media_key(key):
        raise NotFound()
    media = await MediaAttachment.get_or_none(file_key=key)
    if media is None:
        raise NotFound()
    if media.note_id is not None:  # type: ignore[attr-defined]
        note = await Note.get_or_none(id=media.note_id)  # type: ignore[attr-defined]
        if note is None or not await can_view(g.get("viewer"), note):
            raise NotFound()
    path = media_path(security.runtime().settings, key, thumb=thumb)
    if not path.is_file():
        raise NotFound()
    body = await asyncio.to_thread(path.read_bytes)
    mime = (media.thumb_mime if thumb else media.display_mime) or "application/octet-stream"
    response = Response(body, content_type=mime)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = _CSP
    public = media.note_id is None or note.visibility in ("public", "unlisted")  # type: ignore[attr-defined]
    # Keys are never reused, so a file never changes; private photos stay out of shared caches.
    response.headers["Cache-Control"] = (
        "public, max-age=31536000, immutable" if public else "private, max-age=3600"
    )
    return response


@bp.get("/media/<key>")
async def media(key: str) -> Any:
    return await _serve(key, thumb=False)


@bp.get("/media/<key>/thumb")
async def media_thumb(key: str) -> Any:
    return await _serve(key, thumb=True)
