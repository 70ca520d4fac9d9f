"""Two live redfed instances over loopback HTTP: look up, follow (locked → approve), a photo note
with a Chinese title delivered, liked and commented from the other side, edited and deleted.

A runs in this process on the test database; B is a `redfed run` subprocess with its own SQLite
file. B's state is read over HTTP with a bounded wait (`eventually`), never with fixed sleeps.
"""

from __future__ import annotations

import re
from typing import Any

from redfed.services.accounts import create_local_account
from redfed.services.lookup import lookup
from tests.federation_e2e.conftest import LiveApp
from tests.support.accounts import TEST_PASSWORD
from tests.support.live import Browser, eventually
from tests.support.notes import image_bytes

TITLE = "春日抹茶拿铁"
EDITED_TITLE = "春日抹茶拿铁（第二杯）"
COMMENT = "看起来好好喝！"
STEP_SECONDS = 10.0


async def _page_has(browser: Browser, path: str, needle: str) -> bool:
    return needle in await browser.get(path, status=None)


async def test_two_instances_end_to_end(
    instance_a: LiveApp, instance_b: str, browsers: Any
) -> None:
    host_b = instance_b.removeprefix("http://")
    # Given alice (locked) on A and bob on B, each logged in through the web forms
    await create_local_account(instance_a.settings, "alice", TEST_PASSWORD, locked=True)
    alice: Browser = browsers(instance_a.base)
    await alice.log_in("alice", TEST_PASSWORD)
    bob: Browser = browsers(instance_b)
    await bob.sign_up("bob", TEST_PASSWORD)

    # When alice looks bob up by handle (WebFinger + actor fetch over HTTP) and follows him
    found = await lookup(instance_a.runtime, f"@bob@{host_b}")
    assert found.account is not None and found.account.uri == f"{instance_b}/users/bob"
    bob_on_a = f"/@bob@{host_b}"
    await alice.get(bob_on_a)
    assert (await alice.post(f"{bob_on_a}/follow"))[0] == 302
    # Then B accepts at once (bob is not locked) and A records the follow as accepted
    await eventually(
        lambda: _page_has(alice, bob_on_a, '/unfollow"'),
        within=STEP_SECONDS,
        what="B's Accept of alice's follow",
    )

    # When bob follows back: alice is locked, so she approves the request on A
    alice_on_b = f"/@alice@{instance_a.domain}"
    await bob.get(alice_on_b)
    assert (await bob.post(f"{alice_on_b}/follow"))[0] == 302
    request_page = await eventually(
        lambda: _match(alice, "/follow_requests", r"/follow_requests/(\d+)/accept"),
        within=STEP_SECONDS,
        what="bob's follow request on A",
    )
    assert (await alice.post(f"/follow_requests/{request_page.group(1)}/accept"))[0] == 302
    await eventually(
        lambda: _page_has(bob, alice_on_b, ">Unfollow<"),
        within=STEP_SECONDS,
        what="A's Accept of bob's follow",
    )

    # When alice posts a photo note with a Chinese title
    await alice.get("/compose")
    status, location = await alice.post(
        "/compose",
        {
            "title": TITLE,
            "text": "成都小巷里的一家店 #matcha",
            "visibility": "public",
            "alt_text": "一杯抹茶拿铁",
        },
        files={"photos": ("latte.png", image_bytes(size=(64, 48), color="green"), "image/png")},
    )
    assert status == 302, location
    note_a = re.search(r"/@alice/(\d+)$", location)
    assert note_a is not None, location
    # Then it reaches bob's Following timeline on B, with its photo
    note_b = await eventually(
        lambda: _match(bob, "/following", rf"/@alice@{re.escape(instance_a.domain)}/(\d+)"),
        within=STEP_SECONDS,
        what="the note on B",
    )
    note_b_path = note_b.group(0)
    # The note's page fills in as B's worker finishes (the photo is cached by a second job).
    for expected in (TITLE, "一杯抹茶拿铁", "<img"):
        await eventually(
            lambda text=expected: _page_has(bob, note_b_path, text),
            within=STEP_SECONDS,
            what=f"{expected!r} on B's note page",
        )

    # When bob likes and comments on it from B
    note_b_id = note_b.group(1)
    assert (await bob.post(f"/notes/{note_b_id}/like"))[0] in (200, 302, 303)
    assert (await bob.post(f"/notes/{note_b_id}/comment", {"text": COMMENT}))[0] == 302
    # Then alice sees the like and the comment on A
    note_a_path = f"/@alice/{note_a.group(1)}"
    await eventually(
        lambda: _page_has(alice, note_a_path, COMMENT),
        within=STEP_SECONDS,
        what="bob's comment on A",
    )
    await eventually(
        lambda: _liked_once(instance_a, int(note_a.group(1))),
        within=STEP_SECONDS,
        what="bob's like on A",
    )

    # When alice edits the title, then B shows the edit
    await alice.get(f"/notes/{note_a.group(1)}/edit")
    status, _ = await alice.post(
        f"/notes/{note_a.group(1)}/edit", {"title": EDITED_TITLE, "text": "续杯", "language": "zh"}
    )
    assert status == 302
    await eventually(
        lambda: _page_has(bob, note_b_path, EDITED_TITLE), within=STEP_SECONDS, what="the edit on B"
    )

    # When alice deletes the note, then it is gone on B
    await alice.get(note_a_path)
    assert (await alice.post(f"/notes/{note_a.group(1)}/delete"))[0] == 302
    await eventually(lambda: _gone(bob, note_b_path), within=STEP_SECONDS, what="the delete on B")
    assert TITLE not in await bob.get("/following")


async def _match(browser: Browser, path: str, pattern: str) -> re.Match[str] | None:
    return re.search(pattern, await browser.get(path, status=None))


async def _gone(browser: Browser, path: str) -> bool:
    return await browser.status(path) in (404, 410)


async def _liked_once(instance: LiveApp, note_id: int) -> bool:
    from redfed.models import Note

    note = await Note.get(id=note_id)
    return note.likes_count == 1


async def test_search_box_looks_up_a_remote_handle(
    instance_a: LiveApp, instance_b: str, browsers: Any
) -> None:
    # Given bob on B and carol logged in on A
    bob: Browser = browsers(instance_b)
    await bob.sign_up("bob", TEST_PASSWORD)
    await create_local_account(instance_a.settings, "carol", TEST_PASSWORD)
    carol: Browser = browsers(instance_a.base)
    await carol.log_in("carol", TEST_PASSWORD)
    # When carol types bob's handle into the search box
    host_b = instance_b.removeprefix("http://")
    page = await carol.get(f"/search?q=%40bob%40{host_b}")
    # Then she lands on bob's profile (fetched over WebFinger), where she can follow him
    assert f"@bob@{host_b}" in page
    assert 'action="/@bob@' in page and "Follow" in page
