"""One live instance (Hypercorn on loopback) against the fake fediverse: really signed activities
in and out over real HTTP. The worker is run explicitly (`run_until_idle`), so nothing waits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from redfed.app import create_app
from redfed.federation.signatures import parse_signed_request, verify_signed_request
from redfed.models import Account, Follow, FollowState, Note
from redfed.services.accounts import create_local_account
from tests.federation_e2e.conftest import LiveApp, live_settings
from tests.support.accounts import TEST_PASSWORD
from tests.support.fediverse import FakeInstance
from tests.support.live import Browser, reserve_port, serve_app


@pytest.fixture
async def live(tmp_path: Path, db: str) -> AsyncIterator[LiveApp]:
    sock = reserve_port()
    settings = live_settings(tmp_path / "a", db, sock.getsockname()[1])
    app = create_app(settings, start_worker=False, manage_database=False)
    async with serve_app(settings, sock=sock, app=app) as base:
        yield LiveApp(settings, base, app.config["REDFED_RUNTIME"], app.config["REDFED_WORKER"])


@pytest.fixture
async def remote() -> AsyncIterator[FakeInstance]:
    instance = await FakeInstance().start()
    yield instance
    await instance.close()


def _deliveries(remote: FakeInstance, path: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
    return [(h, json.loads(b)) for m, p, h, b in remote.requests if m == "POST" and p == path]


async def test_follow_in_accept_and_note_out_over_real_http(
    live: LiveApp, remote: FakeInstance, browsers: Any
) -> None:
    # Given alice on the live instance and carol on a fake remote server
    alice = await create_local_account(live.settings, "alice", TEST_PASSWORD)
    carol = remote.add_actor("carol")
    # When carol's really signed Follow arrives over HTTP
    follow = remote.activity(carol, "Follow", f"{live.base}/users/alice")
    assert await remote.post_live(live.base, carol, "/users/alice/inbox", follow) == 202
    await live.worker.run_until_idle()
    # Then alice has her as a follower and carol's inbox got a signed Accept from alice
    stored = await Follow.get(followee_id=alice.id).prefetch_related("follower")
    assert stored.state == FollowState.ACCEPTED and stored.follower.uri == carol.uri
    [(headers, accept)] = _deliveries(remote, "/users/carol/inbox")
    assert accept["type"] == "Accept" and accept["actor"] == f"{live.base}/users/alice"
    _verify(remote, headers, accept, alice)

    # When alice posts through the web form
    browser: Browser = browsers(live.base)
    await browser.log_in("alice", TEST_PASSWORD)
    await browser.get("/compose")
    status, _ = await browser.post("/compose", {"title": "周末的面包", "text": "刚出炉"})
    assert status == 302
    await live.worker.run_until_idle()
    # Then carol's server receives the Create at its shared inbox, title included
    [(headers, create)] = _deliveries(remote, "/inbox")
    assert create["type"] == "Create" and "周末的面包" in json.dumps(create, ensure_ascii=False)
    _verify(remote, headers, create, alice)


def _verify(
    remote: FakeInstance, headers: dict[str, str], doc: dict[str, Any], by: Account
) -> None:
    path = next(p for m, p, h, _b in remote.requests if h is headers)
    body = next(b for _m, _p, h, b in remote.requests if h is headers)
    assert json.loads(body) == doc
    signed = parse_signed_request(
        "POST", path, "", headers, body, now=datetime.now(UTC), expected_host=remote.domain
    )
    assert signed.key_id == by.public_key_id
    verify_signed_request(signed, by.public_key_pem)


async def test_an_edit_within_the_same_second_is_applied(
    live: LiveApp, remote: FakeInstance
) -> None:
    # Given carol's public note, published at second T, stored on the live instance
    await create_local_account(live.settings, "alice", TEST_PASSWORD)
    carol = remote.add_actor("carol")
    moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    note = remote.note(carol, "<p>first</p>", published=moment)
    create = remote.activity(carol, "Create", note, to=note["to"], cc=note["cc"])
    assert await remote.post_live(live.base, carol, "/inbox", create) == 202
    await live.worker.run_until_idle()
    assert await Note.filter(uri=note["id"]).exists()
    # When carol edits it within the same second (Mastodon, too, renders `updated` in seconds)
    edited = {**note, "content": "<p>second</p>", "updated": moment}
    remote.put(edited)
    update = remote.activity(carol, "Update", edited, to=note["to"], cc=note["cc"])
    assert await remote.post_live(live.base, carol, "/inbox", update) == 202
    await live.worker.run_until_idle()
    # Then the edit is applied
    stored = await Note.get(uri=note["id"])
    assert "second" in stored.content_html
