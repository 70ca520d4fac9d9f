"""UI language: choose the locale per request (the person's setting, else the language cookie,
else Accept-Language, else `ui.default_language`) and translate with Babel catalogues compiled
from the `.po` files at start-up, in memory (no `.mo` files to build or ship).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from quart import Quart, current_app, g, request

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"
LANGUAGE_COOKIE = "redfed_lang"
# The `lang` attribute and the names people pick from, in their own language.
HTML_LANG = {"en": "en", "zh": "zh-CN"}
LANGUAGE_NAMES = {
    "en": "English",
    "zh": "简体中文",
    "ja": "日本語",
    "ko": "한국어",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "it": "Italiano",
    "pt": "Português",
    "ru": "Русский",
}
_EXTENSION_KEY = "redfed_i18n"


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> dict[str, Translations]:
    """Every `<locale>/LC_MESSAGES/messages.po` compiled in memory. Fuzzy entries are skipped."""
    catalogues: dict[str, Translations] = {}
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        locale = po_path.parent.parent.name
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        catalogues[locale] = Translations(fp=buffer)
        log.debug("i18n.loaded locale=%s messages=%d", locale, len(catalog))
    return catalogues


def init_i18n(app: Quart) -> None:
    """Compile the catalogues once and give Jinja `_`, `gettext` and `ngettext` (new style:
    `_("Hello %(name)s", name=x)` formats and escapes the value)."""
    app.extensions[_EXTENSION_KEY] = compile_catalogues()
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        _raw_gettext, _raw_ngettext, newstyle=True
    )


def _available() -> list[str]:
    return list(current_app.config["REDFED_RUNTIME"].settings.ui.languages)


def select_locale() -> str:
    """The locale of this request, chosen once and kept in `g.locale`."""
    cached = g.get("locale")
    if cached:
        return str(cached)
    available = _available()
    user = g.get("viewer_user")
    choice = user.locale if user is not None and user.locale in available else None
    if choice is None and request.cookies.get(LANGUAGE_COOKIE) in available:
        choice = request.cookies[LANGUAGE_COOKIE]
    if choice is None:
        choice = _from_accept_language(available)
    if choice is None:
        choice = current_app.config["REDFED_RUNTIME"].settings.ui.default_language
    g.locale = choice
    return str(choice)


def _from_accept_language(available: list[str]) -> str | None:
    # `zh-CN`, `zh-Hans-CN`, `zh-TW` all count as zh: the catalogue is the nearest there is.
    for value, _quality in request.accept_languages:
        primary = value.split("-")[0].split("_")[0].lower()
        if primary in available:
            return primary
    return None


def _translations() -> NullTranslations:
    catalogues: dict[str, Translations] = current_app.extensions.get(_EXTENSION_KEY, {})
    return catalogues.get(select_locale()) or NullTranslations()


def _raw_gettext(message: str) -> str:
    return _translations().gettext(message)


def _raw_ngettext(singular: str, plural: str, n: int) -> str:
    return _translations().ngettext(singular, plural, n)


def gettext(message: str, **variables: Any) -> str:
    """Translate for Python code (flash messages, errors): `gettext("Hi %(name)s", name=x)`."""
    text = _raw_gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    variables.setdefault("num", n)
    return _raw_ngettext(singular, plural, n) % variables


_ = gettext
