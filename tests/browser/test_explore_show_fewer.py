"""Explore's card menu in headless Chromium against a real `redfed run`: "show fewer from this
author" takes away every card of that author on screen (infinite scroll appends one card per
author per page, so there can be several), while "not interested" hides only its own card.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_new_user_journey import log_in, new_page, post_note, sign_up

pytestmark = pytest.mark.browser

AUTHORS = ("bob", "chen")
NOTES_EACH = 2  # Explore shows one note per author per page: the second comes on page two
SHOW_FEWER_MESSAGE = "Got it: fewer notes from this author."


async def _authors_post_twice(live_server: LiveServer, chromium: Any) -> None:
    for name in AUTHORS:
        password = await live_server.create_user(name)
        page = await new_page(chromium)
        await log_in(page, live_server.base, name, password)
        for number in range(1, NOTES_EACH + 1):
            await post_note(page, live_server.base, f"Trip {number} by {name}", "#travel", None)
        await page.context.close()


async def _sign_up_to_explore(page: Page, base: str) -> None:
    await sign_up(page, base, "mei", "hotpot-lover-88", "travel")
    await page.wait_for_load_state()  # feed.js binds the card menus once the page is loaded


def _cards_by(page: Page, author: str) -> Locator:
    return page.locator("[data-feed-grid] article.note-card", has_text=f" by {author}")


async def _choose(card: Locator, label: str) -> None:
    menu = card.locator("details.feed-menu")
    await menu.locator("summary").click()
    await menu.get_by_role("button", name=label).click()


async def test_show_fewer_takes_away_every_card_of_the_author_on_screen(
    live_server: LiveServer, chromium: Any
) -> None:
    # Given: bob and chen each posted two travel notes; mei's Explore shows one of each on
    # page one and, once infinite scroll has appended page two, the other two
    await _authors_post_twice(live_server, chromium)
    mei = await new_page(chromium)
    await _sign_up_to_explore(mei, live_server.base)
    for author in AUTHORS:
        await expect(_cards_by(mei, author)).to_have_count(NOTES_EACH)

    # When: she asks to see fewer notes from bob on one of his cards
    await _choose(_cards_by(mei, "bob").first, "Show fewer from this author")

    # Then: that card says so, and none of bob's cards is left in the grid
    status = mei.locator("[data-feed-grid] article.note-card [role=status]")
    await expect(status).to_have_text(SHOW_FEWER_MESSAGE)
    await expect(_cards_by(mei, "bob")).to_have_count(0)
    # And: chen's cards stay
    await expect(_cards_by(mei, "chen")).to_have_count(NOTES_EACH)
    # And: the page did not reload (the no-script form would have): the message is in place
    assert mei.url.rstrip("/") == live_server.base.rstrip("/"), mei.url

    # When: she is not interested in one of chen's notes, only that card goes
    await _choose(_cards_by(mei, "chen").first, "Not interested")
    await expect(_cards_by(mei, "chen")).to_have_count(NOTES_EACH - 1)
    await expect(mei.locator("[data-feed-grid] [role=status]")).to_have_count(2)
