"""translate_note: visibility, cache per (note, version, target), sharing, invalidation, XSS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from redfed.config import Settings
from redfed.errors import NotFound, ServiceUnavailable
from redfed.models import Block, TranslationCache, Visibility
from redfed.runtime import Runtime
from redfed.services.translation.cache import NoteTranslation, translate_note
from tests.support.tiny_argos import tiny_translate
from tests.translation.helpers import (
    CountingEngine,
    counting_engine,
    install,
    make_account,
    make_note,
    only_database_sockets,
)

PAIRS = (("zh", "en"), ("en", "zh"), ("en", "de"))


@pytest.fixture
async def rt(
    settings: Settings, db: str, tiny_packages: dict[tuple[str, str], Path]
) -> AsyncIterator[Runtime]:
    install(settings, tiny_packages, *PAIRS)
    runtime = Runtime(settings=settings)
    runtime.translator = counting_engine(settings)
    yield runtime
    runtime.translator.close()


def calls(rt: Runtime) -> int:
    assert isinstance(rt.translator, CountingEngine)
    return rt.translator.calls


async def test_translates_title_body_and_warning_in_one_batch(rt: Runtime) -> None:
    author = await make_account("li", languages=["zh"])
    note = await make_note(
        author, title="今天", html="<p>你好 <strong>美食</strong>。</p>", spoiler_text="很大"
    )
    result = await translate_note(rt, note, "en", None)
    assert result == NoteTranslation(
        title=tiny_translate("今天"),
        content_html=f"<p>{tiny_translate('你好')} <strong>{tiny_translate('美食')}</strong>"
        f"{tiny_translate('。')}</p>",
        spoiler_text=tiny_translate("很大"),
        source_language="zh",
        target_language="en",
    )
    assert calls(rt) == 1
    row = await TranslationCache.get(note_id=note.id)
    assert (row.text_version, row.target_language, row.title) == (1, "en", result.title)


async def test_second_request_is_a_cache_hit(rt: Runtime) -> None:
    note = await make_note(await make_account("li"), html="<p>你好</p>")
    first = await translate_note(rt, note, "en", None)
    second = await translate_note(rt, note, "en-US", await make_account("bob"))
    assert first == second and calls(rt) == 1
    assert await TranslationCache.all().count() == 1


async def test_concurrent_requests_share_one_translation(rt: Runtime) -> None:
    note = await make_note(await make_account("li"), html="<p>你好。我是人</p>")
    results = await asyncio.gather(*(translate_note(rt, note, "en", None) for _ in range(8)))
    assert len(set(results)) == 1 and calls(rt) == 1
    assert await TranslationCache.all().count() == 1


async def test_edit_invalidates_and_purges(rt: Runtime) -> None:
    note = await make_note(await make_account("li"), html="<p>你好</p>")
    await translate_note(rt, note, "en", None)
    note.content_html, note.text_version = "<p>美食</p>", note.text_version + 1
    await note.save()
    result = await translate_note(rt, note, "en", None)
    assert result.content_html == f"<p>{tiny_translate('美食')}</p>" and calls(rt) == 2
    assert [r.text_version for r in await TranslationCache.all()] == [2]


async def test_pivot_through_english(rt: Runtime) -> None:
    note = await make_note(await make_account("li"), html="<p>今天很美 good</p>")
    result = await translate_note(rt, note, "de", None)
    assert result.content_html == f"<p>{tiny_translate('今天很美 good', hops=2)}</p>"


async def test_missing_language_is_detected(rt: Runtime) -> None:
    note = await make_note(
        await make_account("bob"),
        language="",
        html="<p>Hello my friends, the weather is lovely today.</p>",
    )
    result = await translate_note(rt, note, "zh", None)
    assert result.source_language == "en"
    assert result.content_html == "<p>Uryyb zl sevraqf, gur jrngure vf ybiryl gbqnl.</p>"


@pytest.mark.parametrize("visibility", [Visibility.FOLLOWERS, Visibility.DIRECT])
async def test_private_notes_are_never_translated(rt: Runtime, visibility: Visibility) -> None:
    author = await make_account("li")
    note = await make_note(author, html="<p>你好</p>", visibility=visibility)
    with pytest.raises(NotFound):
        await translate_note(rt, note, "en", author)
    assert calls(rt) == 0 and await TranslationCache.all().count() == 0


async def test_blocked_viewer_and_suspended_author_get_404(rt: Runtime) -> None:
    author, viewer = await make_account("li"), await make_account("eve")
    note = await make_note(author, html="<p>你好</p>")
    await Block.create(account=author, target=viewer)
    with pytest.raises(NotFound):
        await translate_note(rt, note, "en", viewer)
    author.suspended_at = note.published_at
    await author.save()
    with pytest.raises(NotFound):
        await translate_note(rt, note, "en", None)
    assert calls(rt) == 0 and await TranslationCache.all().count() == 0


@pytest.mark.parametrize("target", ["zh", "ja", "", "../x"])
async def test_same_language_or_no_pair_is_not_configured(rt: Runtime, target: str) -> None:
    note = await make_note(await make_account("li"), html="<p>你好</p>")
    with pytest.raises(NotFound):
        await translate_note(rt, note, target, None)
    assert calls(rt) == 0


async def test_disabled_translation_is_404(
    settings: Settings, db: str, tiny_packages: dict[tuple[str, str], Path]
) -> None:
    from dataclasses import replace

    install(settings, tiny_packages, ("zh", "en"))
    off = replace(settings, translation=replace(settings.translation, enabled=False))
    runtime = Runtime(settings=off)
    note = await make_note(await make_account("li"), html="<p>你好</p>")
    with pytest.raises(NotFound):
        await translate_note(runtime, note, "en", None)
    assert runtime.translator is None  # never built


class BrokenEngine(CountingEngine):
    def translate_texts_sync(self, texts: list[str], source: str, target: str) -> list[str]:
        raise RuntimeError("ctranslate2 exploded")


class HostileEngine(CountingEngine):
    """Stands in for a model whose output carries markup (XSS-05, Mastodon CVE-2023-42452)."""

    def translate_texts_sync(self, texts: list[str], source: str, target: str) -> list[str]:
        return ['<img src=x onerror="alert(1)"><script>alert(2)</script>'] * len(texts)


async def test_engine_failure_is_503_and_nothing_cached(rt: Runtime, settings: Settings) -> None:
    rt.translator = BrokenEngine(settings.translation_dir / "packages")
    note = await make_note(await make_account("li"), html="<p>你好</p>")
    with pytest.raises(ServiceUnavailable) as caught:
        await translate_note(rt, note, "en", None)
    assert caught.value.status == 503
    assert await TranslationCache.all().count() == 0
    rt.translator.close()


async def test_hostile_model_output_is_sanitised(rt: Runtime, settings: Settings) -> None:
    rt.translator = HostileEngine(settings.translation_dir / "packages")
    note = await make_note(await make_account("li"), title="标题", html="<p>你好</p>")
    result = await translate_note(rt, note, "en", None)
    stored = await TranslationCache.get(note_id=note.id)
    for html in (result.content_html, stored.content_html):
        assert "<img" not in html and "<script" not in html
    rt.translator.close()


async def test_protected_tokens_and_no_network(
    rt: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = only_database_sockets(monkeypatch, settings)
    tokens = "#travel_tips @alice@example.social https://a.example/x_y 🎉"
    note = await make_note(await make_account("li"), html=f"<p>你好 {tokens}</p>")
    result = await translate_note(rt, note, "en", None)
    assert result.content_html == (f"<p>{tiny_translate('你好')} {tokens}</p>")
    assert attempts == []
