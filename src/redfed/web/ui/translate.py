"""The Translate button: `POST /notes/<id>/translate` (CSRF) answers JSON for translate.js or
redirects back to the note page with `?translate=<lang>`; `note_translation(note)` feeds the
fragment `notes/_translation.html` that the note page includes (auto-translate included).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from babel import Locale, UnknownLocaleError
from quart import Blueprint, g, jsonify, redirect, render_template, request
from quart.blueprints import BlueprintSetupState

from redfed.errors import NotFound, RedfedError
from redfed.models import Note
from redfed.services.translation.cache import (
    TRANSLATABLE,
    NoteTranslation,
    cached_translation,
    translate_note,
)
from redfed.services.translation.languages import (
    normalize_language,
    reading_languages,
    translation_target,
)
from redfed.web import security
from redfed.web.i18n import select_locale

log = logging.getLogger(__name__)

bp = Blueprint("ui_translate", __name__)
FRAGMENT = "notes/_translation.html"


@dataclass(frozen=True)
class TranslationView:
    note_id: int
    target: str  # the language offered / shown
    source_name: str  # the note's language, named in the UI language ("中文", "Chinese")
    translation: NoteTranslation | None  # None: show the Translate button
    automatic: bool  # shown because the person turned on "translate automatically"


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    state.app.jinja_env.globals["note_translation"] = note_translation


def language_name(code: str) -> str:
    """A language code named in the UI language; argos' `zt` is traditional Chinese."""
    babel_code = "zh_Hant" if code == "zt" else code
    try:
        name = Locale.parse(select_locale()).languages.get(babel_code)
    except (ValueError, UnknownLocaleError):
        name = None
    return name or code


def _offered_target(note: Note) -> str | None:
    if note.visibility not in TRANSLATABLE:
        return None
    readers = reading_languages(g.get("viewer"), select_locale())
    return translation_target(security.runtime().settings, note.language, readers)


async def note_translation(note: Note) -> TranslationView | None:
    """What the fragment shows for `note` on this request: None (nothing), a button, or the text.

    A translation is computed here only for people who turned on "translate automatically";
    `?translate=<lang>` (after a no-JS POST) shows the cached one; `?original=1` shows the button.
    """
    viewer, user = g.get("viewer"), g.get("viewer_user")
    target = _offered_target(note) if viewer is not None else None
    if target is None:
        return None
    automatic = bool(user is not None and user.auto_translate) and "original" not in request.args
    translation = None
    if automatic:
        try:
            translation = await translate_note(security.runtime(), note, target, viewer)
        except RedfedError as exc:  # the page still shows the original, with the button
            log.info("translation.auto_failed note=%s detail=%s", note.id, exc.detail)
    elif normalize_language(request.args.get("translate")) == target:
        translation = await cached_translation(note, target)
    return TranslationView(
        note.id,
        target,
        language_name(normalize_language(note.language)),
        translation,
        automatic and translation is not None,
    )


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.post("/notes/<int:note_id>/translate")
@security.login_required
async def translate(note_id: int) -> Any:
    form = await security.read_form()
    note = await Note.get_or_none(id=note_id)
    if note is None:
        raise NotFound()
    target = normalize_language(form.get("target")) or _offered_target(note) or ""
    result = await translate_note(security.runtime(), note, target, g.viewer)
    if _wants_json():
        view = TranslationView(
            note.id, result.target_language, language_name(result.source_language), result, False
        )
        html = await render_template(FRAGMENT, note=note, translation_view=view)
        return jsonify(
            {
                "title": result.title,
                "content_html": result.content_html,
                "spoiler_text": result.spoiler_text,
                "source_language": result.source_language,
                "target_language": result.target_language,
                "provider": result.provider,
                "html": html,
            }
        )
    default = urlsplit(note.url).path if note.local and note.url else "/"
    back = security.safe_next(form.get("next"), default=default)
    query = urlencode({"translate": result.target_language})
    return redirect(f"{back.split('?')[0]}?{query}#translation-{note.id}", 303)


def translation_ui_blueprints() -> list[Blueprint]:
    """The Translate button and the admin page, for web/blueprints.py."""
    from redfed.web.ui import admin_translation

    return [bp, admin_translation.bp]
