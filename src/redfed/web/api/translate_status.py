"""Mastodon-compatible translation: `POST /api/v1/statuses/<id>/translate` and
`GET /api/v1/instance/translation_languages`. Session-authenticated until OAuth exists.
"""

from __future__ import annotations

import html

from quart import Blueprint, g, jsonify, request
from quart.typing import ResponseReturnValue

from redfed.errors import NotFound, Unauthorized
from redfed.models import Note
from redfed.services.translation.cache import NoteTranslation, translate_note
from redfed.services.translation.languages import reading_languages, translation_languages
from redfed.web.i18n import select_locale
from redfed.web.security import runtime

bp = Blueprint("api_translation", __name__)


def translation_json(result: NoteTranslation) -> dict[str, object]:
    """Mastodon's Translation entity. The title has no Mastodon field: it leads the content in
    bold, as notes are rendered for other servers."""
    content = result.content_html
    if result.title:
        content = f"<p><strong>{html.escape(result.title, quote=False)}</strong></p>{content}"
    return {
        "content": content,
        "spoiler_text": result.spoiler_text,
        "poll": None,
        "media_attachments": [],
        "detected_source_language": result.source_language,
        "language": result.target_language,
        "provider": result.provider,
    }


async def _requested_language() -> str:
    """`lang` from the JSON/form body or query; else what the person reads; else the UI locale."""
    body = await request.get_json(silent=True) if request.is_json else await request.form
    lang = (body or {}).get("lang") or request.args.get("lang")
    if isinstance(lang, str) and lang:
        return lang
    user = g.get("viewer_user")
    readers = reading_languages(g.viewer, user.locale if user is not None else "")
    return readers[0] if readers else select_locale()


@bp.post("/api/v1/statuses/<int:note_id>/translate")
async def translate_status(note_id: int) -> ResponseReturnValue:
    if g.get("viewer") is None:
        raise Unauthorized("The access token is invalid")
    note = await Note.get_or_none(id=note_id)
    if note is None:
        raise NotFound("Record not found")
    result = await translate_note(runtime(), note, await _requested_language(), g.viewer)
    return jsonify(translation_json(result))


@bp.get("/api/v1/instance/translation_languages")
async def instance_translation_languages() -> ResponseReturnValue:
    return jsonify(translation_languages(runtime().settings))
