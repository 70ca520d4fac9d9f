"""Sign-up in each registration mode, the approval queue and invites, through the real app."""

from __future__ import annotations

from typing import Any

import pytest

from redfed.models import Account, Invite, Session, User
from tests.conftest import make_settings
from tests.support.accounts import TEST_PASSWORD, page_token


@pytest.fixture
async def app_in_mode(tmp_path, migrated, db) -> Any:
    from redfed.app import create_app

    apps = []

    async def build(mode: str) -> Any:
        settings = make_settings(tmp_path / "data", migrated, registration={"mode": mode})
        context = create_app(settings, start_worker=False, manage_database=False).test_app()
        apps.append(context)
        return await context.__aenter__()

    yield build
    for context in apps:
        await context.__aexit__(None, None, None)


async def _sign_up(client: Any, **fields: Any) -> Any:
    token = await page_token(client, "/signup")
    form = {"username": "newbie", "password": TEST_PASSWORD, "csrf_token": token, **fields}
    return await client.post("/signup", form=form)


async def test_open_mode_signs_up_and_logs_in(client) -> None:
    response = await _sign_up(
        client,
        email="n@example.org",
        interests="travel",
        other_interests="#Matcha hiking",
        locale="zh",
    )
    assert response.status_code == 302
    account = await Account.get(username="newbie").prefetch_related("user")
    assert account.interests == ["travel", "matcha", "hiking"]
    assert account.user.locale == "zh" and account.user.approved
    assert await Session.filter(user_id=account.user.id).count() == 1
    page = await (await client.get("/settings/profile")).get_data(as_text=True)
    assert "编辑资料" in page  # the chosen UI language is used at once


async def test_the_welcome_is_in_the_language_picked_at_sign_up(client) -> None:
    # Given: an English browser; When: the person picks Chinese on the sign-up form
    response = await _sign_up(client, locale="zh", interests="food")
    assert response.status_code == 302
    # Then: the first page greets them in Chinese (found on the walkthrough: the Explore
    # page was Chinese but its "Welcome to redfed!" flash was English)
    page = await (await client.get("/", headers={"Accept-Language": "en"})).get_data(as_text=True)
    assert "欢迎来到" in page and "Welcome to" not in page


async def test_signup_errors_are_shown_and_nothing_is_created(client) -> None:
    response = await _sign_up(client, username="bad name!")
    assert response.status_code == 422
    assert "letters a–z" in await response.get_data(as_text=True)
    response = await _sign_up(client, password="short")
    assert response.status_code == 422
    assert await Account.all().count() == 0


async def test_approval_mode(app_in_mode, make_local_account, login) -> None:
    app = await app_in_mode("approval")
    client = app.test_client()
    response = await _sign_up(client, reason="I take photos of bread")
    assert response.status_code == 200
    user = await User.get(account__username="newbie")
    assert not user.approved and user.signup_reason == "I take photos of bread"
    # Cannot log in while pending.
    token = await page_token(client, "/login")
    response = await client.post(
        "/login", form={"username": "newbie", "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 403 and await Session.all().count() == 0
    # An admin approves on /admin; then the log-in works.
    admin = await make_local_account("boss", admin=True)
    admin_client = app.test_client()
    admin_token = await login(admin_client, admin)
    page = await (await admin_client.get("/admin")).get_data(as_text=True)
    assert "@newbie" in page and "I take photos of bread" in page
    response = await admin_client.post(
        f"/admin/users/{user.id}/approve", form={"csrf_token": admin_token}
    )
    assert response.status_code == 302
    assert (await User.get(id=user.id)).approved
    response = await client.post(
        "/login", form={"username": "newbie", "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


async def test_admin_page_needs_an_admin(client, make_local_account, login) -> None:
    pending_user = (await make_local_account("waiting", approved=False)).user
    alice = await make_local_account("alice")
    token = await login(client, alice)
    assert (await client.get("/admin")).status_code == 403
    response = await client.post(
        f"/admin/users/{pending_user.id}/approve", form={"csrf_token": token}
    )
    assert response.status_code == 403
    assert not (await User.get(id=pending_user.id)).approved


async def test_invite_mode(app_in_mode, make_local_account, login) -> None:
    app = await app_in_mode("invite")
    client = app.test_client()
    response = await _sign_up(client)
    assert response.status_code == 422 and await Account.filter(username="newbie").count() == 0
    admin = await make_local_account("boss", admin=True)
    admin_client = app.test_client()
    admin_token = await login(admin_client, admin)
    response = await admin_client.post(
        "/admin/invites", form={"csrf_token": admin_token, "max_uses": "1", "expires": "7"}
    )
    assert response.status_code == 302
    invite = await Invite.get()
    page = await (await admin_client.get("/admin")).get_data(as_text=True)
    assert f"https://redfed.test/signup?invite={invite.code}" in page
    signup_page = await (await client.get(f"/signup?invite={invite.code}")).get_data(as_text=True)
    assert invite.code in signup_page
    assert (await _sign_up(client, invite_code=invite.code)).status_code == 302
    # Used up: a second person with the same code is refused.
    other = app.test_client()
    response = await _sign_up(other, username="second", invite_code=invite.code)
    assert response.status_code == 422
    assert not await Account.filter(username="second").exists()
    assert (await Invite.get()).uses == 1


async def test_closed_mode(app_in_mode) -> None:
    app = await app_in_mode("closed")
    client = app.test_client()
    assert (await client.get("/signup")).status_code == 403
    response = await _sign_up(client)
    assert response.status_code == 403
    assert await Account.all().count() == 0


async def test_admin_disables_a_user(client, make_local_account, login, app) -> None:
    admin = await make_local_account("boss", admin=True)
    alice = await make_local_account("alice")
    alice_client = app.test_client()
    await login(alice_client, alice)
    token = await login(client, admin)
    response = await client.post("/admin/users/alice/disable", form={"csrf_token": token})
    assert response.status_code == 302
    assert (await User.get(id=alice.user.id)).disabled
    assert await Session.filter(user_id=alice.user.id).count() == 0
    assert (await alice_client.get("/settings/profile")).status_code == 302
    # An admin cannot lock themselves out by accident.
    assert (
        await client.post("/admin/users/boss/disable", form={"csrf_token": token})
    ).status_code == 403
