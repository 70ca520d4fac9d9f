"""The feed's web side through the real app: Explore with reasons on every card (ranked,
chronological, anonymous), beacons and the card menu (login, CSRF, visibility, no state change
when refused), the interests and feed-data pages, and the admin page."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.datastructures import MultiDict

from redfed.models import (
    Account,
    FeedConfig,
    FeedEvent,
    InterestWeight,
    Note,
    User,
    Visibility,
)
from tests.support.feed import account, note

CARD = re.compile(r'data-feed-card="(\d+)"')


async def _snapshot(account_id: int) -> tuple[list, list]:
    events = (
        await FeedEvent.filter(account_id=account_id)
        .order_by("id")
        .values_list("kind", "note_id", "value")
    )
    weights = (
        await InterestWeight.filter(account_id=account_id)
        .order_by("key")
        .values_list("key", "weight")
    )
    return list(events), list(weights)


async def _explore_ids(client, path: str = "/") -> tuple[list[int], str]:
    html = await (await client.get(path)).get_data(as_text=True)
    return [int(i) for i in CARD.findall(html)], html


def _chips_per_card(html: str) -> list[int]:
    blocks = html.split('class="note-card"')[1:]
    return [len(re.findall(r'<li class="chip reason-', b.split("</article>")[0])) for b in blocks]


# --- Explore ----------------------------------------------------------------------------------


async def test_explore_shows_a_reason_on_every_card_and_pages_by_cursor(
    client, make_local_account, login
):
    me = await make_local_account("me", interests=["cats"])
    await login(client, me)
    made = [  # distinct times: ids made for one instant share 16 random bits only
        await note(await account(f"a{i}"), "cats" if i % 2 else "dogs", hours_old=1 + i / 100)
        for i in range(25)
    ]
    first, html = await _explore_ids(client)
    assert len(first) == 20 and all(n >= 1 for n in _chips_per_card(html))
    assert len(_chips_per_card(html)) == 20 and "Not interested" in html
    cursor = re.search(r'data-more href="\?cursor=([^"]+)"', html).group(1)
    partial = await (await client.get(f"/?cursor={cursor}&partial=1")).get_data(as_text=True)
    second = [int(i) for i in CARD.findall(partial)]
    assert "<html" not in partial and set(first).isdisjoint(second)
    assert set(first) | set(second) == {n.id for n in made}
    assert all(n >= 1 for n in _chips_per_card(partial))


async def test_anonymous_and_chronological_explore_work_with_reasons(
    client, make_local_account, login
):
    notes = [await note(await account(f"a{i}"), "x", hours_old=10 - i) for i in range(3)]
    anon_ids, html = await _explore_ids(client)
    assert sorted(anon_ids) == sorted(n.id for n in notes)
    assert all(n >= 1 for n in _chips_per_card(html)) and "Not interested" not in html
    me = await make_local_account("me")
    await User.filter(account_id=me.id).update(feed_mode="chronological")
    await login(client, me)
    ids, html = await _explore_ids(client)
    assert ids == [n.id for n in reversed(notes)]  # newest first
    assert html.count("reason-chronological") == 3


async def test_an_empty_explore_says_the_person_has_seen_everything(
    client, make_local_account, login
):
    # Given: a server where nobody has posted yet
    me = await make_local_account("me")
    token = await login(client, me)
    ids, html = await _explore_ids(client)
    assert ids == [] and "No notes yet. Be the first to post one!" in html
    # When: a note comes and the person has seen it (Explore leaves seen notes out)
    seen = await note(await account("a"), "cats")
    beacon = await client.post(
        "/feed/impressions", json={"note_ids": [seen.id]}, headers={"X-CSRF-Token": token}
    )
    assert beacon.status_code == 200
    ids, html = await _explore_ids(client)
    # Then: the empty page says so and where to see newest notes, not "no notes yet"
    # (found on the walkthrough: a new person on a small server was told nobody had posted)
    assert ids == [] and "No notes yet" not in html
    assert "You have seen everything Explore has for you" in html
    assert 'href="/settings/interests"' in html


# --- beacons and the card menu ------------------------------------------------------------------


async def test_beacons_and_menu_need_login_and_csrf(client, make_local_account, login):
    me = await make_local_account("me")
    target = await note(await account("a"), "cats")
    paths = ["open", "dwell", "not-interested", "show-fewer"]
    for path in paths:  # logged out: sent to the login page, nothing recorded
        response = await client.post(f"/feed/notes/{target.id}/{path}", json={"seconds": 5})
        assert response.status_code == 302
    token = await login(client, me)
    before = await _snapshot(me.id)
    for path in paths:
        no_token = await client.post(f"/feed/notes/{target.id}/{path}", json={"seconds": 5})
        assert no_token.status_code == 403
        form = await client.post(f"/feed/notes/{target.id}/{path}", form={"seconds": "5"})
        assert form.status_code == 403
    beacon = await client.post("/feed/impressions", json={"note_ids": [target.id]})
    assert beacon.status_code == 403
    assert await _snapshot(me.id) == before == ([], [])
    ok = await client.post(
        "/feed/impressions", json={"note_ids": [target.id]}, headers={"X-CSRF-Token": token}
    )
    assert ok.status_code == 200 and (await ok.get_json()) == {"recorded": 1}
    dwell = await client.post(
        f"/feed/notes/{target.id}/dwell", form={"csrf_token": token, "seconds": "45"}
    )
    assert dwell.status_code == 200
    other = await note(await account("b"), "dogs")
    fields = MultiDict([("csrf_token", token), ("note_id", str(other.id)), ("note_id", "x")])
    beacon_form = await client.post("/feed/impressions", form=fields)  # as feed.js's sendBeacon
    assert (await beacon_form.get_json()) == {"recorded": 1}
    kinds = [k for k, _, _ in (await _snapshot(me.id))[0]]
    assert kinds == ["impression", "dwell", "impression"]


async def test_invisible_notes_are_refused_with_no_state_change(client, make_local_account, login):
    me = await make_local_account("me")
    token = await login(client, me)
    author = await account("secretive")
    hidden = await note(author, "cats", visibility=Visibility.FOLLOWERS)
    shown = await note(author, "cats")
    headers = {"X-CSRF-Token": token}
    before = await _snapshot(me.id)
    for path in ["open", "dwell", "not-interested", "show-fewer"]:
        response = await client.post(
            f"/feed/notes/{hidden.id}/{path}", json={"seconds": 5}, headers=headers
        )
        assert response.status_code == 404, path
    missing = await client.post("/feed/notes/999999/open", json={}, headers=headers)
    assert missing.status_code == 404
    assert await _snapshot(me.id) == before
    batch = await client.post(
        "/feed/impressions", json={"note_ids": [hidden.id, shown.id, 999999]}, headers=headers
    )
    assert (await batch.get_json()) == {"recorded": 1}
    assert [n for _, n, _ in (await _snapshot(me.id))[0]] == [shown.id]


async def test_not_interested_changes_the_next_page(client, make_local_account, login):
    me = await make_local_account("me", interests=["cats"])
    token = await login(client, me)
    cats = [await note(await account(f"cat{i}"), "cats", hours_old=1 + i) for i in range(3)]
    dog = await note(await account("dog"), "dogs", hours_old=5)
    ids, _ = await _explore_ids(client)
    # What it means, not exact positions (MMR interleaves topics): a cat leads the page.
    cat_ids = {c.id for c in cats}
    assert ids[0] in cat_ids and ids.index(dog.id) > 0
    response = await client.post(
        f"/feed/notes/{cats[0].id}/not-interested", form={"csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/"
    after, _ = await _explore_ids(client)
    # The dismissed note is gone and its topic gave up the lead to the other one.
    assert cats[0].id not in after and after[0] == dog.id
    assert len(cat_ids & set(after)) < len(cat_ids & set(ids))
    assert await InterestWeight.filter(account_id=me.id, key="tag:cats", weight__lt=0).exists()


async def test_show_fewer_from_author_changes_the_next_page(client, make_local_account, login):
    me = await make_local_account("me", interests=["cats"])
    token = await login(client, me)
    loud = await account("loud")
    first = await note(loud, "cats", hours_old=1)
    second = await note(loud, "cats", hours_old=2)
    others = [await note(await account(f"q{i}"), "cats", hours_old=3 + i) for i in range(3)]
    ids, _ = await _explore_ids(client)
    assert ids[0] == first.id
    response = await client.post(
        f"/feed/notes/{first.id}/show-fewer",
        json={},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert response.status_code == 200 and "message" in await response.get_json()
    after, _ = await _explore_ids(client)
    assert first.id not in after and after[-1] == second.id
    assert set(after) == {second.id, *(n.id for n in others)}


# --- the person's pages ---------------------------------------------------------------------------


async def test_interests_page_edits_adds_resets_and_switches_mode(
    client, make_local_account, login
):
    me = await make_local_account("me", interests=["travel"])
    page = await client.get("/settings/interests")
    assert page.status_code == 302  # login first
    token = await login(client, me)
    html = await (await client.get("/settings/interests")).get_data(as_text=True)
    assert "#travel" in html
    saved = await client.post(
        "/settings/interests", form={"csrf_token": token, "key": "tag:travel", "weight": "-4"}
    )
    assert saved.status_code == 303
    assert (await InterestWeight.get(account_id=me.id, key="tag:travel")).weight == -4
    await client.post(
        "/settings/interests", form={"csrf_token": token, "tag": "#Cats", "weight": "2"}
    )
    assert await InterestWeight.filter(account_id=me.id, key="tag:cats", weight=2).exists()
    bad = await client.post(
        "/settings/interests", form={"csrf_token": token, "tag": "#", "weight": "1"}
    )
    assert bad.status_code == 400
    forged = await client.post("/settings/interests/reset", form={})
    assert forged.status_code == 403 and await InterestWeight.filter(account_id=me.id).count() >= 2
    await client.post("/settings/interests/reset", form={"csrf_token": token})
    assert not await InterestWeight.filter(account_id=me.id).exists()
    await client.post("/settings/interests/mode", form={"csrf_token": token, "feed_mode": "nope"})
    assert (await User.get(account_id=me.id)).feed_mode == "interest"
    await client.post(
        "/settings/interests/mode", form={"csrf_token": token, "feed_mode": "chronological"}
    )
    assert (await User.get(account_id=me.id)).feed_mode == "chronological"


async def test_feed_data_export_and_reset(client, make_local_account, login):
    me = await make_local_account("me", interests=["cats"])
    token = await login(client, me)
    target = await note(await account("a"), "cats")
    await client.get("/")  # an Explore session
    await client.post(f"/feed/notes/{target.id}/open", json={}, headers={"X-CSRF-Token": token})
    export = await client.get("/settings/feed-data/export")
    assert "attachment" in export.headers["Content-Disposition"]
    data = json.loads(await export.get_data(as_text=True))
    assert [e["kind"] for e in data["events"]] == ["open"] and "tag:cats" in data["interests"]
    page = await (await client.get("/settings/feed-data")).get_data(as_text=True)
    assert 'data-count="open">1<' in page
    forged = await client.post("/settings/feed-data/reset", form={"csrf_token": "x"})
    assert forged.status_code == 403 and await FeedEvent.filter(account_id=me.id).count() == 1
    done = await client.post("/settings/feed-data/reset", form={"csrf_token": token})
    assert done.status_code == 303
    assert await _snapshot(me.id) == ([], [])


@pytest.mark.parametrize("reset", ["/settings/interests/reset", "/settings/feed-data/reset"])
async def test_a_reset_is_not_undone_by_the_sign_up_interests(
    client, make_local_account, login, reset
):
    # Given: someone who picked #cats at sign-up and sees why Explore shows a cat note
    me = await make_local_account("me", interests=["cats"])
    token = await login(client, me)
    await note(await account("a"), "cats")
    _ids, html = await _explore_ids(client)
    assert "You like #cats" in html
    # When: she resets her interests, or erases what Explore keeps
    done = await client.post(reset, form={"csrf_token": token})
    assert done.status_code == 303
    # Then: Explore starts afresh, as the page says: the sign-up picks do not come back
    # through the cold start (found on the walkthrough: the chips still said "You like #cats")
    _ids, html = await _explore_ids(client)
    assert _ids and "You like #cats" not in html
    interests = await (await client.get("/settings/interests")).get_data(as_text=True)
    assert "#cats" not in interests.split("<h2", 3)[2]  # the "What Explore thinks" list


# --- admin ------------------------------------------------------------------------------------


async def test_admin_feed_page_requires_admin_and_saves(app, client, make_local_account, login):
    plain = await make_local_account("plain")
    admin = await make_local_account("boss", admin=True)
    token = await login(client, plain)
    assert (await client.get("/admin/feed")).status_code == 403
    refused = await client.post(
        "/admin/feed",
        form={
            "csrf_token": token,
            "alpha": "1",
            "new_creator_share": "0.3",
            "remote_in_explore": "none",
        },
    )
    assert refused.status_code == 403 and not await FeedConfig.exists()
    client = app.test_client()
    token = await login(client, admin)
    assert (await client.get("/admin/feed")).status_code == 200
    bad = await client.post(
        "/admin/feed",
        form={
            "csrf_token": token,
            "alpha": "9",
            "new_creator_share": "0.3",
            "remote_in_explore": "sometimes",
        },
    )
    assert bad.status_code == 422 and not await FeedConfig.exists()
    ok = await client.post(
        "/admin/feed",
        form={
            "csrf_token": token,
            "alpha": "1",
            "new_creator_share": "0.3",
            "remote_in_explore": "none",
        },
    )
    assert ok.status_code == 303
    row = await FeedConfig.get(id=1)
    assert (row.alpha, row.new_creator_share, row.remote_in_explore) == (1.0, 0.3, "none")


async def test_admin_remote_policy_reaches_explore(client, make_local_account, login):
    local = await note(await account("here"), "x")
    remote = await note(await account("far", domain="remote.example"), "x")
    admin = await make_local_account("boss", admin=True)
    token = await login(client, admin)
    ids, _ = await _explore_ids(client)
    assert set(ids) == {local.id, remote.id}
    await client.post(
        "/admin/feed",
        form={
            "csrf_token": token,
            "alpha": "0.2",
            "new_creator_share": "0.25",
            "remote_in_explore": "none",
        },
    )
    ids, _ = await _explore_ids(client)
    assert ids == [local.id]
    assert await Note.filter(id=remote.id).exists()


# --- start-up and sign-up hooks ---------------------------------------------------------------


async def test_signup_interests_seed_the_profile(make_local_account):
    me = await make_local_account("me", interests=["Travel"], languages=["zh"])
    keys = set(await InterestWeight.filter(account_id=me.id).values_list("key", flat=True))
    assert keys == {"tag:travel", "lang:zh"}


async def test_interests_have_one_editor_and_a_profile_save_keeps_them(
    client, make_local_account, login
):
    """The profile form had a second "Interests" field holding the sign-up picks, which Explore
    stops reading once it has learned from likes (found on the walkthrough): it is gone, the
    profile page points to the Interests page, and saving the profile keeps the picks."""
    me = await make_local_account("me", interests=["travel"], languages=["en"])
    token = await login(client, me)
    html = await (await client.get("/settings/profile")).get_data(as_text=True)
    assert 'name="interests"' not in html and 'href="/settings/interests"' in html
    form = {"csrf_token": token, "display_name": "Me", "bio": "", "languages": "en"}
    assert (await client.post("/settings/profile", form=form)).status_code == 302
    assert (await Account.get(id=me.id)).interests == ["travel"]


async def test_starting_the_worker_schedules_feed_maintenance(settings, db):
    from redfed.app import create_app
    from redfed.models import Job

    application = create_app(settings, start_worker=True, manage_database=False)
    async with application.test_app():
        assert await Job.filter(kind="feed.maintain").exists()
        assert await Job.filter(kind="housekeeping").exists()


async def test_the_admin_page_leads_to_the_explore_settings(client, make_local_account, login):
    # Given: an admin on /admin (found on the walkthrough: nothing linked /admin/feed)
    await login(client, await make_local_account("boss", admin=True))
    html = await (await client.get("/admin")).get_data(as_text=True)
    # Then: the Explore ranking page is one click away, and says what it is in its title
    assert '<a href="/admin/feed">Explore ranking</a>' in html
    page = await (await client.get("/admin/feed")).get_data(as_text=True)
    assert "<title>Explore ranking ·" in page


# --- the pages in Chinese ---------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_SHOWN_ATTR = re.compile(r'(?:placeholder|aria-label|title|alt)="([^"]*)"')
_NOT_TEXT = re.compile(r"<(script|style)\b.*?</\1>|<option\b.*?</option>", re.S)
_NAMES = re.compile(r"[#@][\w.@-]+|\b(?:redfed|JSON|mei|lin|ann|boss)\b")


def english_left(html: str) -> list[str]:
    """Words of three or more Latin letters a person reads on the page (text and the
    attributes shown or spoken), leaving out names: hashtags, the test's accounts, redfed,
    JSON, and the language menu, where each language is named in itself."""
    body = _NOT_TEXT.sub(" ", html.split("<body", 1)[1])
    text = " ".join([_TAG.sub(" ", body), *_SHOWN_ATTR.findall(body)])
    return re.findall(r"[A-Za-z]{3,}", _NAMES.sub(" ", text))


async def test_the_feed_pages_leave_no_english_in_chinese(app, client, make_local_account, login):
    # Given: someone whose Explore holds a card and who has a few events kept, and an admin
    me = await make_local_account("mei", interests=["cats"])
    token = await login(client, me)
    shown = await note(await account("lin"), "cats")
    other = await note(await account("ann"), "cats")
    await client.post(
        "/feed/impressions", json={"note_ids": [other.id]}, headers={"X-CSRF-Token": token}
    )
    for path in ("open", "not-interested"):
        await client.post(
            f"/feed/notes/{other.id}/{path}", json={}, headers={"X-CSRF-Token": token}
        )
    zh = {"Accept-Language": "zh-CN"}
    # When: the pages are read in Chinese
    pages = {}
    for path in ("/", "/settings/interests", "/settings/feed-data"):
        pages[path] = await (await client.get(path, headers=zh)).get_data(as_text=True)
    assert f'data-feed-card="{shown.id}"' in pages["/"]
    admin_client = app.test_client()
    await login(admin_client, await make_local_account("boss", admin=True))
    for path in ("/admin", "/admin/feed"):
        pages[path] = await (await admin_client.get(path, headers=zh)).get_data(as_text=True)
    # Then: no English is left on them (the kept events were listed by their code names)
    assert {path: english_left(html) for path, html in pages.items()} == {p: [] for p in pages}
