"""The Translate button (JSON and no-JS), auto-translate, the Mastodon endpoint, the admin page."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from quart.datastructures import FileStorage

from redfed.config import Settings
from redfed.models import TranslationCache, Visibility
from redfed.services.translation import models_admin
from redfed.services.translation.languages import packages_dir
from tests.support.tiny_argos import tiny_translate
from tests.translation.helpers import CountingEngine, counting_engine, install

TEXT = "你好。我是人"
TRANSLATED = tiny_translate("你好。") + " " + tiny_translate("我是人")


@pytest.fixture
def packages(settings: Settings, tiny_packages: dict[tuple[str, str], Path]) -> None:
    install(settings, tiny_packages, ("zh", "en"), ("en", "zh"))


@pytest.fixture
async def scene(
    app: Any, runtime: Any, packages: None, make_local_account: Any, make_note: Any
) -> dict[str, Any]:
    li = await make_local_account("li")
    bob = await make_local_account("bob")
    bob.languages = ["en"]
    await bob.save()
    note = await make_note(li, text=TEXT, language="zh")
    runtime.translator = counting_engine(runtime.settings)
    return {"li": li, "bob": bob, "note": note, "path": f"/@li/{note.id}"}


def calls(runtime: Any) -> int:
    assert isinstance(runtime.translator, CountingEngine)
    return runtime.translator.calls


async def test_button_translates_with_json_then_hits_the_cache(
    client: Any, runtime: Any, login: Any, scene: dict[str, Any]
) -> None:
    token = await login(client, scene["bob"])
    page = await (await client.get(scene["path"])).get_data(as_text=True)
    assert f'action="/notes/{scene["note"].id}/translate"' in page and TRANSLATED not in page
    for _ in range(2):
        response = await client.post(
            f"/notes/{scene['note'].id}/translate",
            form={"csrf_token": token, "target": "en"},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200
        body = await response.get_json()
        assert body["content_html"] == f"<p>{TRANSLATED}</p>"
        assert "Translated from Chinese" in body["html"] and "Show original" in body["html"]
    assert calls(runtime) == 1 and await TranslationCache.all().count() == 1


async def test_without_js_redirects_to_the_page_with_the_translation(
    client: Any, login: Any, scene: dict[str, Any]
) -> None:
    token = await login(client, scene["bob"])
    response = await client.post(
        f"/notes/{scene['note'].id}/translate", form={"csrf_token": token, "next": scene["path"]}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == f"{scene['path']}?translate=en#translation-{scene['note'].id}"
    page = await (await client.get(location.split("#")[0])).get_data(as_text=True)
    assert TRANSLATED in page and "Show original" in page


async def test_csrf_or_login_missing_changes_nothing(
    client: Any, runtime: Any, login: Any, scene: dict[str, Any]
) -> None:
    url = f"/notes/{scene['note'].id}/translate"
    response = await client.post(url, form={"target": "en"})  # logged out
    assert response.status_code in (302, 403)
    await login(client, scene["bob"])
    response = await client.post(url, form={"target": "en", "csrf_token": "forged"})
    assert response.status_code == 403
    assert calls(runtime) == 0 and await TranslationCache.all().count() == 0


async def test_auto_translate_shows_translation_first(
    client: Any, login: Any, scene: dict[str, Any]
) -> None:
    user = scene["bob"].user
    user.auto_translate = True
    await user.save()
    await login(client, scene["bob"])
    page = await (await client.get(scene["path"])).get_data(as_text=True)
    assert TRANSLATED in page and page.index(TRANSLATED) < page.index(TEXT)
    assert "Show original" in page
    original = await (await client.get(scene["path"] + "?original=1")).get_data(as_text=True)
    assert TRANSLATED not in original and "js-translate" in original


async def test_no_button_for_readers_of_the_language(
    client: Any, login: Any, scene: dict[str, Any]
) -> None:
    await login(client, scene["li"])
    scene["li"].languages = ["zh"]
    await scene["li"].save()
    page = await (await client.get(scene["path"])).get_data(as_text=True)
    assert "js-translate" not in page


async def test_mastodon_translate_endpoint(
    client: Any, runtime: Any, login: Any, scene: dict[str, Any], make_note: Any
) -> None:
    url = f"/api/v1/statuses/{scene['note'].id}/translate"
    assert (await client.post(url, json={"lang": "en"})).status_code == 401
    token = await login(client, scene["bob"])
    headers = {"X-CSRF-Token": token}
    response = await client.post(url, json={"lang": "en"}, headers=headers)
    assert response.status_code == 200
    assert await response.get_json() == {
        "content": f"<p>{TRANSLATED}</p>",
        "spoiler_text": "",
        "poll": None,
        "media_attachments": [],
        "detected_source_language": "zh",
        "language": "en",
        "provider": "Argos Translate",
    }
    hidden = await make_note(scene["li"], text=TEXT, language="zh", visibility=Visibility.FOLLOWERS)
    response = await client.post(
        f"/api/v1/statuses/{hidden.id}/translate", json={}, headers=headers
    )
    assert response.status_code == 404 and "error" in await response.get_json()
    assert await TranslationCache.filter(note_id=hidden.id).count() == 0
    languages = await client.get("/api/v1/instance/translation_languages")
    assert await languages.get_json() == {"en": ["zh"], "zh": ["en"]}


class BrokenEngine(CountingEngine):
    def translate_texts_sync(self, texts: list[str], source: str, target: str) -> list[str]:
        raise RuntimeError("ctranslate2 exploded")


async def test_mastodon_endpoint_503_and_404_when_off(
    client: Any, runtime: Any, login: Any, scene: dict[str, Any]
) -> None:
    token = await login(client, scene["bob"])
    url = f"/api/v1/statuses/{scene['note'].id}/translate"
    runtime.translator.close()
    runtime.translator = BrokenEngine(packages_dir(runtime.settings))
    response = await client.post(url, json={"lang": "en"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 503 and "error" in await response.get_json()
    settings = runtime.settings
    runtime.settings = replace(settings, translation=replace(settings.translation, enabled=False))
    response = await client.post(url, json={"lang": "en"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 404
    runtime.settings = settings
    assert await TranslationCache.all().count() == 0


async def test_admin_installs_from_upload_and_removes(
    app: Any,
    client: Any,
    login: Any,
    make_local_account: Any,
    settings: Settings,
    tiny_packages: dict[tuple[str, str], Path],
) -> None:
    folder = packages_dir(settings)

    def upload(data: bytes) -> dict[str, FileStorage]:
        return {"package": FileStorage(io.BytesIO(data), filename="../../evil.argosmodel")}

    data = tiny_packages[("en", "de")].read_bytes()
    token = await login(client, await make_local_account("mallory"))
    response = await client.post(
        "/admin/translation/install", form={"csrf_token": token}, files=upload(data)
    )
    assert response.status_code == 403 and models_admin.list_installed(folder) == []

    client = app.test_client()  # a fresh browser for the admin
    token = await login(client, await make_local_account("boss", admin=True))
    response = await client.post(
        "/admin/translation/install", form={"csrf_token": token}, files=upload(b"not a zip")
    )
    assert response.status_code == 302 and models_admin.list_installed(folder) == []
    response = await client.post(
        "/admin/translation/install", form={"csrf_token": token}, files=upload(data)
    )
    assert response.status_code == 302
    assert [(m.from_code, m.to_code) for m in models_admin.list_installed(folder)] == [("en", "de")]
    assert not (settings.data_dir.parent / "evil.argosmodel").exists()
    page = await (await client.get("/admin/translation")).get_data(as_text=True)
    assert "Installed en → de." in page and "English → German" in page
    response = await client.post(
        "/admin/translation/remove", form={"csrf_token": token, "from": "en", "to": "de"}
    )
    assert response.status_code == 302 and models_admin.list_installed(folder) == []
