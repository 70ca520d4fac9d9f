"""The UI language: Accept-Language, the person's setting, the switch, and the catalogue itself."""

from __future__ import annotations

import re

from redfed.models import User
from redfed.web.i18n import TRANSLATIONS_DIR, compile_catalogues
from tests.support.accounts import page_token


async def test_accept_language_zh_cn_gives_chinese(client) -> None:
    response = await client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    html = await response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录" in html and "发现" in html and "Log in" not in html
    english = await (
        await client.get("/login", headers={"Accept-Language": "fr, en;q=0.5"})
    ).get_data(as_text=True)
    assert '<html lang="en">' in english and "Log in" in english


async def test_user_setting_wins_over_the_browser(client, make_local_account, login) -> None:
    alice = await make_local_account("alice")
    token = await login(client, alice)
    response = await client.post("/settings/locale", form={"csrf_token": token, "locale": "zh"})
    assert response.status_code == 302
    assert (await User.get(id=alice.user.id)).locale == "zh"
    html = await (
        await client.get("/settings/account", headers={"Accept-Language": "en"})
    ).get_data(as_text=True)
    assert "账号设置" in html and "语言设置已保存。" in html  # the flash is in the new language
    assert "条未读" not in html  # no unread notifications, so no badge
    # An unknown language is refused and changes nothing.
    response = await client.post("/settings/locale", form={"csrf_token": token, "locale": "xx"})
    assert response.status_code == 422
    assert (await User.get(id=alice.user.id)).locale == "zh"


async def test_language_switch_for_visitors(client) -> None:
    token = await page_token(client, "/login")
    response = await client.post(
        "/settings/language", form={"csrf_token": token, "locale": "zh", "next": "/login"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    html = await (await client.get("/login", headers={"Accept-Language": "en"})).get_data(
        as_text=True
    )
    assert "登录" in html


async def test_error_messages_are_translated_and_escaped(client) -> None:
    html = await (await client.get("/login", headers={"Accept-Language": "zh"})).get_data(
        as_text=True
    )
    response = await client.post(
        "/login", form={"username": "x", "password": "y"}, headers={"Accept-Language": "zh"}
    )
    assert response.status_code == 403
    assert "表单已过期" in await response.get_data(as_text=True)
    assert html


def test_catalogue_compiles_with_plurals_and_placeholders() -> None:
    zh = compile_catalogues()["zh"]
    assert zh.gettext("Explore") == "发现" and zh.gettext("Following") == "关注"
    assert (
        zh.ngettext("At least %(num)d character.", "At least %(num)d characters.", 8) % {"num": 8}
        == "至少 8 个字符。"
    )
    po = (TRANSLATIONS_DIR / "zh/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    # Every placeholder of a msgid appears in its translation.
    for msgid, msgstr in re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', po, flags=re.M):
        assert sorted(re.findall(r"%\(\w+\)\w", msgid)) == sorted(
            re.findall(r"%\(\w+\)\w", msgstr)
        ), msgid
