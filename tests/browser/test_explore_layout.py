"""The Explore grid's layout in headless Chromium against a real `redfed run`: the card menu
("not interested", "show fewer from this author") fits on a phone, and the desktop top bar
reads logo, search, tabs, then the person's actions. Found on the issue 4 walkthrough.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.photos import make_photo
from tests.browser.test_new_user_journey import log_in, new_page, post_note, sign_up

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# Is the centre of each button of the open menu on screen, and is it the button that a tap
# there reaches (not clipped by the card, not under another box)?
_MENU_REACHABLE = """menu => [...menu.querySelectorAll('button')].map(button => {
  const box = button.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = document.elementFromPoint(x, y);
  return {text: button.textContent.trim(), left: box.left, right: box.right,
          reached: hit !== null && button.contains(hit)};
})"""


async def _authors_post(live_server: LiveServer, chromium: Any, tmp_path: Path) -> None:
    for index, name in enumerate(("bob", "chen")):
        password = await live_server.create_user(name)
        page = await new_page(chromium)
        await log_in(page, live_server.base, name, password)
        photo = make_photo(tmp_path / f"{name}.jpg", index)
        await post_note(page, live_server.base, f"Note by {name}", "#travel", photo)
        await page.context.close()


async def _sign_up(page: Page, base: str) -> None:
    await sign_up(page, base, "mei", "hotpot-lover-88", "travel")
    await expect(page.locator("article.note-card").nth(1)).to_be_visible()


async def test_card_menu_fits_on_a_phone_and_the_top_bar_reads_in_order(
    live_server: LiveServer, chromium: Any, tmp_path: Path
) -> None:
    # Given: two people posted, so a phone's Explore grid has a card in each column
    await _authors_post(live_server, chromium, tmp_path)
    phone = await new_page(chromium, viewport=PHONE)
    await _sign_up(phone, live_server.base)
    cards = phone.locator("article.note-card")
    for index in range(2):
        # When: the card's ⋯ menu is opened
        menu = cards.nth(index).locator("details.feed-menu")
        await menu.locator("summary").click()
        await expect(menu.locator("button").first).to_be_visible()
        # Then: each choice is wholly on screen and a tap on it reaches it
        for button in await menu.evaluate(_MENU_REACHABLE):
            assert button["left"] >= 0 and button["right"] <= PHONE["width"], button
            assert button["reached"], button
        await menu.locator("summary").click()

    # And: without scripts (the language switch shows its button) "Post a note" keeps to
    # one line on a phone
    plain = await new_page(chromium, viewport=PHONE, java_script_enabled=False)
    await log_in(plain, live_server.base, "mei", "hotpot-lover-88")
    compose = await plain.locator("a.compose").evaluate(
        "a => a.getClientRects().length === 1 && a.getBoundingClientRect().height"
    )
    line = await plain.locator("a.compose").evaluate(
        "a => parseFloat(getComputedStyle(a).lineHeight) || 20"
    )
    assert compose and compose < 2 * line, (compose, line)

    # And: on a desktop the top bar reads logo, search, tabs, then the person's actions
    desktop = await new_page(chromium, viewport=DESKTOP)
    await log_in(desktop, live_server.base, "mei", "hotpot-lover-88")
    boxes = [
        await desktop.locator(selector).bounding_box()
        for selector in ("header .logo", "header .search", "header nav.tabs", ".topbar-actions")
    ]
    lefts = [box["x"] for box in boxes if box is not None]
    assert len(lefts) == 4 and lefts == sorted(lefts), lefts
