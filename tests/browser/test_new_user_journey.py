"""A new person's first visit, in headless Chromium against a real `redfed run`: sign up with
interests, post a photo note with a Chinese title, find it on Explore, like / collect / comment,
follow someone and see their note on Following, switch the UI to Chinese, and meet a clear error.

Set REDFED_SCREENSHOT=docs/screenshot.png to also save the README's phone-sized Explore shot.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.photos import make_photo

pytestmark = pytest.mark.browser

TITLE = "成都火锅推荐"
BOB_TITLE = "Matcha latte by the river"
PHONE = {"width": 390, "height": 844}


async def new_page(browser: Any, **options: Any) -> Page:
    context = await browser.new_context(locale="en-US", **options)
    context.set_default_timeout(10_000)
    return await context.new_page()


async def log_in(page: Page, base: str, username: str, password: str) -> None:
    await page.goto(f"{base}/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("form[action^='/login'] button[type=submit]")
    await expect(page.locator("a.compose")).to_be_visible()


async def sign_up(page: Page, base: str, username: str, password: str, interest: str) -> None:
    """Fill and send the sign-up form with one suggested interest picked."""
    await page.goto(f"{base}/signup")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click(f"label[for=interest-{interest}]")
    await page.click("form[action='/signup'] button[type=submit]")


async def post_note(page: Page, base: str, title: str, text: str, photo: Path | None) -> None:
    await page.goto(f"{base}/compose")
    if photo is not None:
        await page.set_input_files("#photos", str(photo))
    await page.fill("#title", title)
    await page.fill("#text", text)
    await page.click("section.compose button[type=submit]")
    await expect(page.locator("h1.note-title")).to_have_text(title)


async def test_new_user_journey(live_server: LiveServer, chromium: Any, tmp_path: Path) -> None:
    base = live_server.base
    assert any("Created the first admin account: admin" in line for line in live_server.output)
    # Given: bob, made by the admin on the command line, has posted a photo note
    bob_password = await live_server.create_user("bob")
    bob = await new_page(chromium)
    await log_in(bob, base, "bob", bob_password)
    await post_note(bob, base, BOB_TITLE, "Slow morning. #food", make_photo(tmp_path / "b.jpg", 2))

    # When: mei signs up and picks two interests
    mei = await new_page(chromium)
    await mei.goto(f"{base}/signup")
    await expect(mei.locator("h1")).to_have_text("Create your account")
    await mei.fill("#username", "mei")
    await mei.fill("#password", "hotpot-lover-88")
    await mei.click("label[for=interest-food]")
    await mei.click("label[for=interest-travel]")
    await mei.click("form[action='/signup'] button[type=submit]")
    # Then: she is logged in and welcomed
    await expect(mei.locator(".flashes")).to_contain_text("Welcome to redfed!")
    await mei.wait_for_load_state()  # the scripts bind the like buttons once the page is loaded
    await expect(mei.locator("header.topbar details.menu summary")).to_contain_text("mei")
    # She lands on Explore, where bob's photo note is; she likes it from the grid
    # (Explore then leaves it out of her later pages: she has seen it)
    bobs_card = mei.locator("article.note-card", has_text=BOB_TITLE)
    await expect(bobs_card.locator(".cover img")).to_be_visible()  # a real box, not 0 px high
    await expect(bobs_card.locator("[data-count]")).to_have_text("0")
    await bobs_card.locator("form[data-like] button").click()
    await expect(bobs_card.locator("[data-count]")).to_have_text("1")

    # A note with neither title, text nor photo is refused with a clear message
    await mei.goto(f"{base}/compose")
    await mei.click("section.compose button[type=submit]")
    await expect(mei.locator(".field-error, .alert-error").first).to_have_text(
        "A note needs a title, some text or a photo."
    )
    await expect(mei.locator("h1")).to_have_text("Post a note")

    # She posts a photo note with a Chinese title
    await post_note(
        mei, base, TITLE, "麻辣鲜香，排队也值得。#food #chengdu", make_photo(tmp_path / "a.jpg", 0)
    )
    await expect(mei.locator(".flashes")).to_contain_text("Your note is posted.")
    await expect(mei.locator(".carousel img")).to_be_visible()

    # Bob finds her note on his Explore grid and opens it
    await bob.goto(f"{base}/")
    card = bob.locator("article.note-card", has_text=TITLE)
    await expect(card.locator(".cover img")).to_be_visible()
    await card.locator("a.note-card-link").click()
    await expect(bob.locator("h1.note-title")).to_have_text(TITLE)
    await bob.wait_for_load_state()

    # Like and collect change the counts in place; a comment shows up with the count
    like = bob.locator("form[data-like] button")
    await expect(like.locator("[data-count]")).to_have_text("0")
    await like.click()
    await expect(like).to_have_attribute("aria-pressed", "true")
    await expect(like.locator("[data-count]")).to_have_text("1")
    collect = bob.locator("form[data-collect] button")
    await expect(collect.locator("[data-count]")).to_have_text("0")
    await collect.click()
    await expect(collect).to_have_attribute("aria-pressed", "true")
    await expect(collect.locator("[data-count]")).to_have_text("1")
    await expect(bob.locator("a.comments-link")).to_have_text(re.compile(r"\s0$"))
    await bob.fill("#comment-text", "下次一起去！")
    await bob.click("form.comment-form button[type=submit]")
    await expect(bob.locator(".comment-list .comment-body")).to_have_text("下次一起去！")
    await expect(bob.locator("a.comments-link")).to_have_text(re.compile(r"\s1$"))

    # Mei sees them on her note: the counts were stored, not only drawn
    assert mei.url == bob.url.split("#")[0]  # still on her note since posting it
    await mei.reload()
    await expect(mei.locator("form[data-like] [data-count]")).to_have_text("1")
    await expect(mei.locator("form[data-collect] [data-count]")).to_have_text("1")
    await expect(mei.locator(".comment-list .comment", has_text="下次一起去！")).to_have_count(1)
    await expect(mei.locator(".comment-list .comment .author-name")).to_have_text("bob")

    # She follows bob and his note appears on Following
    await mei.goto(f"{base}/following")
    await expect(mei.locator("article.note-card", has_text=BOB_TITLE)).to_have_count(0)
    await mei.goto(f"{base}/@bob")
    await mei.click("form[action='/@bob/follow'] button")
    await expect(mei.locator("form[action='/@bob/unfollow'] button")).to_have_text("Unfollow")
    await expect(mei.locator("ul.counts li", has_text="followers")).to_have_text(
        re.compile(r"^\s*1\s+followers\s*$")
    )
    await mei.goto(f"{base}/following")
    await expect(mei.locator("article.note-card", has_text=BOB_TITLE)).to_have_count(1)

    # She switches the interface to Chinese: the labels are Chinese, on later pages too
    await mei.select_option("#language-switch", "zh")
    await expect(mei.locator("nav.tabs a[href='/']")).to_have_text("发现")
    await expect(mei.locator("nav.tabs a[href='/following']")).to_have_text("关注")
    await expect(mei.locator("a.compose")).to_have_text("发笔记")
    await mei.goto(f"{base}/")
    await expect(mei.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(mei.locator("nav.tabs a[href='/']")).to_have_text("发现")

    if os.environ.get("REDFED_SCREENSHOT"):
        await save_screenshot(
            chromium, live_server, [bob, mei], tmp_path, Path(os.environ["REDFED_SCREENSHOT"])
        )


async def save_screenshot(
    chromium: Any, live_server: LiveServer, authors: list[Page], tmp_path: Path, target: Path
) -> None:
    """A phone-sized Explore grid with a few photo notes, as a small palette PNG."""
    from PIL import Image

    more = [
        ("Weekend hike to the lake", 1),
        ("Sunset from the old town", 3),
        ("Picnic in the park", 2),
    ]
    for index, (title, palette) in enumerate(more):
        photo = make_photo(tmp_path / f"s{index}.jpg", palette, (480, 560 + 80 * index))
        author = authors[index % len(authors)]  # Explore spreads a page over several authors
        await post_note(author, live_server.base, title, "#travel", photo)
    # A newcomer who likes travel and food: her first Explore page is the README's picture
    phone = await new_page(chromium, viewport=PHONE, device_scale_factor=1)
    await phone.goto(f"{live_server.base}/signup")
    await phone.fill("#username", "lin")
    await phone.fill("#password", "window-seat-42")
    await phone.click("label[for=interest-travel]")
    await phone.click("label[for=interest-food]")
    await phone.click("form[action='/signup'] button[type=submit]")
    await expect(phone.locator("article.note-card").nth(1)).to_be_visible()
    await phone.evaluate("document.querySelector('.flashes')?.remove()")
    await phone.wait_for_load_state("networkidle")
    png = await phone.screenshot(full_page=False)
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128)
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target, "PNG", optimize=True)
