"""Which languages a viewer reads, which pairs are installed, and when to offer "Translate".

Also the one place the Runtime's translation engine is created (`get_engine`, lazily on first use)
and where a new note's missing language is filled in (`language_for_new_note`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path

from redfed.config import Settings
from redfed.errors import NotFound
from redfed.models import Account
from redfed.runtime import Runtime
from redfed.services.translation import models_admin
from redfed.services.translation.detect import BASE_LANGUAGES, _detector, detect_language
from redfed.services.translation.engine import TranslationEngine
from redfed.services.translation.protect import PROTECTED

PIVOT = "en"  # every package of the public index goes to or from English
_CODE = re.compile(r"^[a-z]{2,3}$")
# Argos names traditional Chinese "zt"; browsers and AS2 contentMap say zh-TW / zh-Hant.
_TRADITIONAL = frozenset({"zh-tw", "zh-hk", "zh-mo", "zh-hant"})

_lock = threading.Lock()
_installed: dict[Path, tuple[int, tuple[models_admin.ModelInfo, ...]]] = {}


class TranslationNotConfigured(NotFound):
    # Mastodon answers 404 when translation is not configured for the note.
    public_message = "Translation is not available for this note."


def packages_dir(settings: Settings) -> Path:
    return settings.translation_dir / "packages"


def get_engine(rt: Runtime) -> TranslationEngine:
    """The process's engine, built on first use (never at start-up or import)."""
    if not rt.settings.translation.enabled:
        raise TranslationNotConfigured(detail="translation.disabled")
    if rt.translator is None:
        # Building the engine imports nothing heavy: argostranslate loads on the first translate.
        rt.translator = TranslationEngine(
            packages_dir(rt.settings),
            max_workers=rt.settings.translation.workers,
            index_url=rt.settings.translation.index_url,
        )
    return rt.translator


def normalize_language(code: str | None) -> str:
    """`zh-CN` → `zh`, `zh-TW` → `zt` (argos' code), `EN_us` → `en`; "" when not a language code."""
    value = (code or "").strip().lower().replace("_", "-")
    if value in _TRADITIONAL:
        return "zt"
    value = value.split("-")[0]
    return value if _CODE.match(value) else ""


def installed_packages(settings: Settings) -> tuple[models_admin.ModelInfo, ...]:
    """Installed packages from their metadata (no argostranslate import), cached by folder mtime."""
    folder = packages_dir(settings)
    try:
        stamp = folder.stat().st_mtime_ns
    except FileNotFoundError:
        return ()
    with _lock:
        cached = _installed.get(folder)
        if cached is None or cached[0] != stamp:
            cached = (stamp, tuple(models_admin.list_installed(folder)))
            _installed[folder] = cached
        return cached[1]


def direct_pairs(settings: Settings) -> frozenset[tuple[str, str]]:
    return frozenset((m.from_code, m.to_code) for m in installed_packages(settings))


def can_translate(settings: Settings, source: str, target: str) -> bool:
    """A direct package, or two through English (argos builds that pivot itself)."""
    pairs = direct_pairs(settings)
    return (source, target) in pairs or ((source, PIVOT) in pairs and (PIVOT, target) in pairs)


def translation_languages(settings: Settings) -> dict[str, list[str]]:
    """{source: [targets]}, pivots included (Mastodon's /api/v1/instance/translation_languages)."""
    if not settings.translation.enabled:
        return {}
    pairs = direct_pairs(settings)
    codes = {code for pair in pairs for code in pair}
    return {
        source: targets
        for source in sorted(codes)
        if (
            targets := [
                t for t in sorted(codes) if t != source and can_translate(settings, source, t)
            ]
        )
    }


def language_names(settings: Settings) -> dict[str, str]:
    """Code → English name, as the installed packages spell them."""
    names: dict[str, str] = {}
    for info in installed_packages(settings):
        names.setdefault(info.from_code, info.from_name or info.from_code)
        names.setdefault(info.to_code, info.to_name or info.to_code)
    return names


def reading_languages(account: Account | None, locale: str = "") -> list[str]:
    """What a viewer reads: the profile's languages, then the UI locale; order kept, no repeats."""
    found: list[str] = []
    for code in [*(account.languages if account is not None else []), locale]:
        value = normalize_language(code)
        if value and value not in found:
            found.append(value)
    return found


def translation_target(
    settings: Settings, note_language: str, readers: Iterable[str]
) -> str | None:
    """The language to offer a translation into, or None when "Translate" should not show.

    Offered when the note's language is known, is not one the viewer reads, and an installed pair
    (direct or via English) leads to one they do read.
    """
    source = normalize_language(note_language)
    wanted = [normalize_language(code) for code in readers]
    if not settings.translation.enabled or not source or source in wanted:
        return None
    return next((t for t in wanted if t and can_translate(settings, source, t)), None)


def language_for_new_note(text: str, chosen: str | None, profile_languages: Iterable[str]) -> str:
    """The author's choice wins; else detection (offline); else the profile's first language."""
    picked = normalize_language(chosen)
    if picked:
        return picked
    profile = [code for code in (normalize_language(c) for c in profile_languages) if code]
    detected = detect_language(text, candidates=profile) if text.strip() else None
    if detected:
        return detected
    return profile[0] if profile else ""


def detect_with_confidence(text: str, candidates: Iterable[str] = ()) -> tuple[str, float]:
    """(code, confidence 0–100) as LibreTranslate's /detect; unsure → English with 0, as it does."""
    code = detect_language(text, candidates)
    if code is None:
        return PIVOT, 0.0
    # detect_language already built (and cached) this detector; ask it how sure it was.
    codes = frozenset(c.split("-")[0].lower() for c in (*BASE_LANGUAGES, *candidates) if c)
    for value in _detector(codes).compute_language_confidence_values(PROTECTED.sub(" ", text)):
        if value.language.iso_code_639_1.name.lower() == code:
            return code, round(100.0 * float(value.value), 1)
    return code, 0.0
