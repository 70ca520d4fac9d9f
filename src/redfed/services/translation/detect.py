"""Offline language detection (lingua), only to fill in a note's missing language.

The author's choice always wins; short posts detect poorly, so this answers None when unsure.
Restricting lingua to the languages that matter keeps it accurate, fast to load and small (~110 MB).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from redfed.services.translation.protect import PROTECTED

BASE_LANGUAGES = ("en", "zh", "ja", "ko", "es", "fr", "de", "pt", "it", "ru")
MIN_LETTERS = 3
MIN_CONFIDENCE = 0.5

_lock = threading.Lock()
_detectors: dict[frozenset[str], Any] = {}


def _detector(codes: frozenset[str]) -> Any:
    """Build (once per language set) a lingua detector restricted to `codes`."""
    with _lock:
        if codes not in _detectors:
            from lingua import IsoCode639_1, LanguageDetectorBuilder  # noqa: PLC0415 - lazy

            isos = [
                getattr(IsoCode639_1, c.upper())
                for c in sorted(codes)
                if hasattr(IsoCode639_1, c.upper())
            ]
            _detectors[codes] = (
                LanguageDetectorBuilder.from_iso_codes_639_1(*isos)
                .with_minimum_relative_distance(0.1)
                .build()
            )
        return _detectors[codes]


def detect_language(text: str, candidates: Iterable[str] = ()) -> str | None:
    """ISO 639-1 code of `text` among BASE_LANGUAGES plus `candidates`, or None when unsure."""
    cleaned = PROTECTED.sub(" ", text)  # URLs, handles and tags say nothing about the language
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return None
    codes = frozenset(c.split("-")[0].lower() for c in (*BASE_LANGUAGES, *candidates) if c)
    detector = _detector(codes)
    confidences = detector.compute_language_confidence_values(cleaned)
    if not confidences or confidences[0].value < MIN_CONFIDENCE:
        return None
    return str(confidences[0].language.iso_code_639_1.name.lower())
