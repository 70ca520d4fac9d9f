"""Which languages a viewer reads, when Translate is offered, and a new note's language."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from redfed.config import Settings
from redfed.models import Account
from redfed.runtime import Runtime
from redfed.services.translation import languages, models_admin
from tests.translation.helpers import install


@pytest.fixture
def installed(settings: Settings, tiny_packages: dict[tuple[str, str], Path]) -> Settings:
    install(settings, tiny_packages, ("zh", "en"), ("en", "de"))
    return settings


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh-CN", "zh"),
        ("zh_Hans", "zh"),
        ("zh-TW", "zt"),
        ("EN-us", "en"),
        ("", ""),
        (None, ""),
        ("../../x", ""),
        ("english", ""),
    ],
)
def test_normalize_language(code: str | None, expected: str) -> None:
    assert languages.normalize_language(code) == expected


def test_reading_languages_profile_then_locale() -> None:
    account = Account(username="a", uri="u", languages=["zh-CN", "en", "zh"])
    assert languages.reading_languages(account, "de-DE") == ["zh", "en", "de"]
    assert languages.reading_languages(None, "zh-CN") == ["zh"]
    assert languages.reading_languages(None, "") == []


def test_translation_target(installed: Settings) -> None:
    offer = languages.translation_target
    assert offer(installed, "zh", ["en"]) == "en"
    assert offer(installed, "zh", ["ja", "de"]) == "de"  # via English
    assert offer(installed, "zh", ["en", "zh"]) is None  # the viewer reads it
    assert offer(installed, "de", ["zh"]) is None  # no package leads there
    assert offer(installed, "", ["en"]) is None  # unknown language: no button
    off = replace(installed, translation=replace(installed.translation, enabled=False))
    assert offer(off, "zh", ["en"]) is None


def test_installed_pairs_follow_installs_and_removals(installed: Settings) -> None:
    assert languages.translation_languages(installed) == {"en": ["de"], "zh": ["de", "en"]}
    assert languages.language_names(installed)["zh"] == "Chinese"
    models_admin.remove(languages.packages_dir(installed), "en", "de")
    assert languages.translation_languages(installed) == {"zh": ["en"]}
    assert not languages.can_translate(installed, "zh", "de")


def test_language_for_new_note() -> None:
    pick = languages.language_for_new_note
    assert pick("Hello there, lovely weather today", "zh-CN", ["en"]) == "zh"  # author wins
    assert pick("今天的天气很好，我们去海边吧", None, ["en"]) == "zh"
    assert pick("The weather is lovely today, let us go", "", []) == "en"
    assert pick("👍", None, ["ja", "en"]) == "ja"  # nothing to detect: the profile's first
    assert pick("", None, []) == ""


def test_engine_is_built_lazily_once(settings: Settings) -> None:
    rt = Runtime(settings=settings)
    assert rt.translator is None
    engine = languages.get_engine(rt)
    assert languages.get_engine(rt) is engine
    assert engine.packages_dir == settings.translation_dir / "packages"
    engine.close()
