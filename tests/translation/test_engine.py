"""The engine through the real argostranslate path with tiny models: batching, pivot, protection."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest

from redfed.services.translation.engine import (
    LanguagePair,
    TranslationEngine,
    TranslationUnavailable,
)
from tests.support.tiny_argos import tiny_translate
from tests.translation.conftest import NetworkAttempted, make_engine


async def test_translates_sentences_like_argostranslate_itself(engine: TranslationEngine) -> None:
    import argostranslate.translate as argos_translate

    text = "Hello world. Second sentence!"
    [out] = await engine.translate_texts([text], "en", "de")
    assert out == "Uryyb jbeyq. Frpbaq fragrapr!"
    # Same result as argos' own (unbatched) translate() on the same packages.
    assert out == argos_translate.translate(text, "en", "de")


async def test_batch_keeps_order_paragraphs_and_chinese(engine: TranslationEngine) -> None:
    texts = ["你好。我是人！", "Line one\n\nLine two.", "", "Ok"]
    out = await engine.translate_texts(texts, "zh", "en")
    # Every sentence after the first starts with a space (argos decoding), even in Chinese;
    # NFKC turns the full-width ! into ASCII.
    assert out[0] == tiny_translate("你好。") + " " + tiny_translate("我是人!")
    assert out[1] == "Yvar bar\n\nYvar gjb."
    assert out[2:] == ["", "Bx"]


async def test_pivot_through_english(engine: TranslationEngine) -> None:
    assert LanguagePair("zh", "de") in engine.installed_pairs()
    assert engine.can_translate("zh", "de") and not engine.can_translate("de", "zh")
    [out] = await engine.translate_texts(["今天很美 good"], "zh", "de")
    # Two hops (zh->en, en->de): ROT13 twice is identity, the Chinese shift applies twice.
    assert out == tiny_translate("今天很美 good", hops=2)
    assert out != "今天很美 good"


async def test_protected_tokens_survive(engine: TranslationEngine) -> None:
    text = "Tips #travel_tips from @alice@example.social at https://a.example/x_y 🎉👍🏽 :blob_cat:"
    [out] = await engine.translate_texts([text], "en", "zh")
    assert out == (
        "Gvcf #travel_tips sebz @alice@example.social ng https://a.example/x_y 🎉👍🏽 :blob_cat:"
    )


async def test_unavailable_pair_raises(engine: TranslationEngine) -> None:
    with pytest.raises(TranslationUnavailable):
        await engine.translate_texts(["Hallo"], "de", "zh")
    assert await engine.translate_texts(["same"], "en", "en") == ["same"]


async def test_no_network_while_translating(
    tmp_path: Path, tiny_packages: dict[tuple[str, str], Path], no_network: list[object]
) -> None:
    # The guard really fires...
    with pytest.raises(NetworkAttempted):
        socket.create_connection(("127.0.0.1", 9))
    no_network.clear()
    # ...and a fresh engine (models and splitters load lazily, under the guard) never calls it.
    eng = make_engine(tmp_path, tiny_packages, ("en", "zh"))
    assert await eng.translate_texts(["Hi there. Bye!"], "en", "zh") == ["Uv gurer. Olr!"]
    assert no_network == []
    eng.close()


async def test_package_without_splitter_does_not_download(
    tmp_path: Path, tiny_packages: dict[tuple[str, str], Path], no_network: list[object]
) -> None:
    # Real index packages may lack minisbd/: argos would download <lang>.onnx at translate time.
    eng = make_engine(tmp_path, tiny_packages, ("en", "de"))
    shutil.rmtree(next(eng.packages_dir.glob("translate-en_de")) / "minisbd")
    assert await eng.translate_texts(["One. Two!"], "en", "de") == ["Bar. Gjb!"]
    assert no_network == []
    eng.close()


async def test_concurrent_calls_share_the_bounded_pool(engine: TranslationEngine) -> None:
    results = await asyncio.gather(
        *(engine.translate_texts([f"note {i}"], "en", "zh") for i in range(10))
    )
    assert [r[0] for r in results] == [f"abgr {i}" for i in range(10)]
