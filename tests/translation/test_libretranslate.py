"""The LibreTranslate-compatible API through the real app: keys, shapes, Mastodon requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from redfed.app import create_app
from redfed.config import Settings
from tests.conftest import make_settings
from tests.support.tiny_argos import tiny_translate
from tests.translation.helpers import install, only_database_sockets

KEY = "k-0123456789"
PAIRS = (("zh", "en"), ("en", "zh"), ("en", "de"))


@pytest.fixture
def settings(tmp_path: Path, migrated: str, tiny_packages: dict[tuple[str, str], Path]) -> Settings:
    configured = make_settings(
        tmp_path / "data",
        migrated,
        translation={"libretranslate_api": True, "api_keys": ["other-key", KEY]},
    )
    install(configured, tiny_packages, *PAIRS)
    return configured


async def post(client: Any, path: str, **body: Any) -> tuple[int, Any]:
    response = await client.post(path, json=body)
    return response.status_code, await response.get_json()


async def test_translate_text_string(client: Any) -> None:
    status, body = await post(
        client, "/translate", q="你好。我是人", source="zh", target="en", api_key=KEY
    )
    assert status == 200
    assert body == {"translatedText": tiny_translate("你好。") + " " + tiny_translate("我是人")}


async def test_mastodon_shaped_request(
    client: Any, runtime: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = only_database_sockets(monkeypatch, settings)
    # As Mastodon's TranslationService::LibreTranslate sends it: JSON, q a list, format html.
    texts = ["<p>你好 <strong>美食</strong></p>", '<p>看 <a href="https://x.example/t">海</a></p>']
    status, body = await post(
        client, "/translate", q=texts, source="zh", target="en", format="html", api_key=KEY
    )
    assert status == 200
    assert body["translatedText"] == [
        f"<p>{tiny_translate('你好')} <strong>{tiny_translate('美食')}</strong></p>",
        f'<p>{tiny_translate("看")} <a href="https://x.example/t" target="_blank" '
        f'rel="nofollow noopener noreferrer">{tiny_translate("海")}</a></p>',
    ]
    assert "detectedLanguage" not in body
    assert attempts == []


async def test_auto_detection_per_text_and_pivot(client: Any) -> None:
    texts = ["今天的天气很好", "Good morning my dear friends"]
    status, body = await post(
        client, "/translate", q=texts, source="auto", target="de", api_key=KEY
    )
    assert status == 200
    assert body["translatedText"] == [
        tiny_translate("今天的天气很好", hops=2),
        "Tbbq zbeavat zl qrne sevraqf",
    ]
    assert [d["language"] for d in body["detectedLanguage"]] == ["zh", "en"]
    assert all(0 < d["confidence"] <= 100 for d in body["detectedLanguage"])


async def test_form_body_and_html_sanitised(client: Any) -> None:
    response = await client.post(
        "/translate",
        form={
            "q": '<p>Look <img src=x onerror="alert(1)"></p>',
            "source": "en",
            "target": "zh",
            "format": "html",
            "api_key": KEY,
        },
    )
    assert response.status_code == 200
    assert (await response.get_json()) == {"translatedText": "<p>Ybbx </p>"}


async def test_languages_and_detect(client: Any) -> None:
    response = await client.get(f"/languages?api_key={KEY}")
    assert (await response.get_json()) == [
        {"code": "de", "name": "German", "targets": []},
        {"code": "en", "name": "English", "targets": ["de", "zh"]},
        {"code": "zh", "name": "Chinese", "targets": ["de", "en"]},
    ]
    status, body = await post(client, "/detect", q="今天的天气很好，我们去海边吧", api_key=KEY)
    assert status == 200 and body[0]["language"] == "zh" and body[0]["confidence"] > 50


@pytest.mark.parametrize("key", [None, "", "k-012345678", "K-0123456789", ["k-0123456789"]])
async def test_bad_key_is_403_and_nothing_runs(client: Any, runtime: Any, key: Any) -> None:
    body: dict[str, Any] = {"q": "你好", "source": "zh", "target": "en"}
    if key is not None:
        body["api_key"] = key
    for path in ("/translate", "/detect"):
        status, answer = await post(client, path, **body)
        assert (status, answer) == (403, {"error": "Invalid API key"})
    assert runtime.translator is None  # the engine was never even built


async def test_languages_is_open_without_a_key_like_libretranslate(client: Any) -> None:
    # Mastodon lists the supported pairs with a plain GET /languages (no key).
    response = await client.get("/languages")
    assert response.status_code == 200
    assert isinstance(await response.get_json(), list)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"source": "zh", "target": "en"}, "missing q"),
        ({"q": "x", "target": "en"}, "missing source"),
        ({"q": "x", "source": "zh"}, "missing target"),
        ({"q": "x" * 10_001, "source": "zh", "target": "en"}, "exceeds text limit"),
        ({"q": ["x"] * 101, "source": "zh", "target": "en"}, "at most 100"),
        ({"q": [1], "source": "zh", "target": "en"}, "list of at most"),
        ({"q": "x", "source": "de", "target": "zh"}, "not supported"),
        ({"q": "x", "source": "zh", "target": "ja"}, "ja is not supported"),
        ({"q": "x", "source": "zh", "target": "en", "format": "pdf"}, "format"),
    ],
)
async def test_invalid_requests_are_400(
    client: Any, runtime: Any, body: dict[str, Any], message: str
) -> None:
    status, answer = await post(client, "/translate", api_key=KEY, **body)
    assert status == 400 and message in answer["error"]


async def test_disabled_api_is_404(
    tmp_path: Path, migrated: str, db: str, tiny_packages: dict[tuple[str, str], Path]
) -> None:
    off = make_settings(tmp_path / "off", migrated, translation={"api_keys": [KEY]})
    install(off, tiny_packages, ("zh", "en"))
    application = create_app(off, start_worker=False, manage_database=False)
    async with application.test_app() as test_app:
        client = test_app.test_client()
        status, body = await post(
            client, "/translate", q="你好", source="zh", target="en", api_key=KEY
        )
        assert status == 404 and "error" in body
        assert (await client.get(f"/languages?api_key={KEY}")).status_code == 404
        assert (await post(client, "/detect", q="你好", api_key=KEY))[0] == 404
        assert application.config["REDFED_RUNTIME"].translator is None
