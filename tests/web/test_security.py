"""Web auth rows of the security catalogue (WEB-01/02/04/05/06/08/09, XSS-06/09), through the
real app and test client. Every refused request is checked for "no state change"."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import make_settings
from tests.support.accounts import TEST_PASSWORD, csrf_from, page_token

from redfed.models import Account, Session, User
from redfed.services import sessions
from redfed.web.security import SESSION_COOKIE, safe_next


def _cookie(client: Any, name: str) -> str | None:
    return next((c.value for c in client.cookie_jar if c.name == name), None)


# --- WEB-01: CSRF -----------------------------------------------------------------------------


async def _profile_post(client: Any, token: str | None, **headers: str) -> Any:
    form = {"display_name": "Hacked", "bio": ""}
    if token is not None:
        form["csrf_token"] = token
    return await client.post("/settings/profile", form=form, headers=headers)


async def test_web01_post_without_token_is_refused(client, make_local_account, login) -> None:
    alice = await make_local_account("alice")
    await login(client, alice)
    response = await _profile_post(client, None)
    assert response.status_code == 403
    assert (await Account.get(id=alice.id)).display_name == ""


async def test_web01_another_sessions_token_is_refused(
    app, client, make_local_account, login
) -> None:
    alice = await make_local_account("alice")
    mallory = await make_local_account("mallory")
    other = app.test_client()
    mallory_token = await login(other, mallory)
    await login(client, alice)
    response = await _profile_post(client, mallory_token)
    assert response.status_code == 403
    assert (await Account.get(id=alice.id)).display_name == ""


async def test_web01_cross_site_origin_is_refused_even_with_token(
    client, make_local_account, login
) -> None:
    alice = await make_local_account("alice")
    token = await login(client, alice)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
    ):
        response = await _profile_post(client, token, **headers)
        assert response.status_code == 403, headers
    assert (await Account.get(id=alice.id)).display_name == ""
    # The same request from our own origin goes through: the check is not refusing everything.
    response = await _profile_post(
        client, token, Origin="https://redfed.test", **{"Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 302
    assert (await Account.get(id=alice.id)).display_name == "Hacked"


async def test_web01_logged_out_forms_need_the_signed_presession_token(
    client, make_local_account
) -> None:
    await make_local_account("alice")
    # No token at all, then a token from another browser (its cookie nonce differs).
    form = {"username": "alice", "password": TEST_PASSWORD}
    assert (await client.post("/login", form=form)).status_code == 403
    token = await page_token(client, "/login")
    form_forged = {**form, "csrf_token": token[:-2] + ("00" if not token.endswith("00") else "11")}
    assert (await client.post("/login", form=form_forged)).status_code == 403
    assert await Session.all().count() == 0
    # Sign-up is guarded too: no account appears.
    response = await client.post("/signup", form={"username": "bob", "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert not await Account.filter(username="bob").exists()
    assert (await client.post("/login", form={**form, "csrf_token": token})).status_code == 302


async def test_web01_logout_needs_a_token(client, make_local_account, login) -> None:
    alice = await make_local_account("alice")
    await login(client, alice)
    assert (await client.post("/logout", form={})).status_code == 403
    assert await Session.all().count() == 1


# --- WEB-02: session rotation -----------------------------------------------------------------


async def test_web02_new_session_id_at_login_and_logout_deletes_it(
    client, make_local_account, login
) -> None:
    alice = await make_local_account("alice")
    client.set_cookie("localhost", SESSION_COOKIE, "planted-by-attacker")
    await login(client, alice)
    token = _cookie(client, SESSION_COOKIE)
    assert token and token != "planted-by-attacker"
    row = await Session.get(token_hash=sessions.token_hash(token))
    assert row.token_hash != token  # only the hash is stored
    # Logging in again (e.g. on a shared computer) replaces the session, not adds to it.
    first_csrf = await page_token(client, "/settings/account")
    response = await client.post(
        "/login", form={"username": "alice", "password": TEST_PASSWORD, "csrf_token": first_csrf}
    )
    assert response.status_code == 302
    assert _cookie(client, SESSION_COOKIE) != token
    second = await page_token(client, "/settings/account")
    assert await Session.all().count() == 1
    response = await client.post("/logout", form={"csrf_token": second})
    assert response.status_code == 302
    assert await Session.all().count() == 0
    assert (await client.get("/settings/profile")).status_code == 302  # back to the login page


async def test_session_cookie_flags(client, make_local_account) -> None:
    await make_local_account("alice")
    token = await page_token(client, "/login")
    response = await client.post(
        "/login", form={"username": "alice", "password": TEST_PASSWORD, "csrf_token": token}
    )
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


# --- WEB-04 / WEB-06: rate limits -------------------------------------------------------------


async def _try_login(client: Any, username: str, password: str, ip: str | None = None) -> int:
    token = await page_token(client, "/login")
    headers = {"X-Forwarded-For": ip} if ip else {}
    response = await client.post(
        "/login",
        form={"username": username, "password": password, "csrf_token": token},
        headers=headers,
    )
    return int(response.status_code)


async def test_web04_per_ip_limit(client, make_local_account) -> None:
    await make_local_account("alice")
    statuses = [await _try_login(client, f"nobody{i}", "wrong-password") for i in range(10)]
    assert statuses == [401] * 10
    # The right password for a real account from this address is refused now: no session.
    assert await _try_login(client, "alice", TEST_PASSWORD) == 429
    assert await Session.all().count() == 0


@pytest.fixture
async def proxied_app(tmp_path, migrated, db) -> Any:
    from redfed.app import create_app

    settings = make_settings(
        tmp_path / "data", migrated, server={"trusted_proxies": ["127.0.0.1/32"]}
    )
    application = create_app(settings, start_worker=False, manage_database=False)
    async with application.test_app() as test_app:
        yield test_app


async def test_web04_per_account_limit_across_addresses(proxied_app) -> None:
    from redfed.services.accounts import create_local_account

    settings = proxied_app.app.config["REDFED_RUNTIME"].settings
    await create_local_account(settings, "alice", TEST_PASSWORD)
    client = proxied_app.test_client()
    statuses = [
        await _try_login(client, "alice", "wrong-password", ip=f"203.0.113.{i}") for i in range(10)
    ]
    assert statuses == [401] * 10
    assert await _try_login(client, "ALICE", TEST_PASSWORD, ip="198.51.100.7") == 429
    assert await Session.all().count() == 0


async def test_web06_forwarded_for_ignored_without_trusted_proxy(
    client, make_local_account
) -> None:
    await make_local_account("alice")
    for i in range(10):
        assert await _try_login(client, f"x{i}", "wrong-password", ip=f"203.0.113.{i}") == 401
    assert await _try_login(client, "alice", TEST_PASSWORD, ip="198.51.100.99") == 429
    assert await Session.all().count() == 0


def test_client_ip_picks_the_rightmost_untrusted_hop() -> None:
    from redfed.web.security import FailureLimiter

    limiter = FailureLimiter(limit=2, window_seconds=60)
    limiter.record("k")
    assert limiter.retry_after("k") == 0
    limiter.record("k")
    assert limiter.retry_after("k") > 0
    limiter.clear("k")
    assert limiter.retry_after("k") == 0


# --- WEB-05: password change ------------------------------------------------------------------


async def test_web05_password_change(app, client, make_local_account, login) -> None:
    alice = await make_local_account("alice")
    phone = app.test_client()
    await login(phone, alice)
    token = await login(client, alice)
    before = (await User.get(id=alice.user.id)).password_hash
    # Without (or with a wrong) current password: refused, nothing changes, nobody logged out.
    response = await client.post(
        "/settings/password",
        form={
            "csrf_token": token,
            "current_password": "not-it",
            "new_password": "new password 123",
            "confirm_password": "new password 123",
        },
    )
    assert response.status_code == 422
    assert (await User.get(id=alice.user.id)).password_hash == before
    assert await Session.filter(user_id=alice.user.id).count() == 2
    # With it: changed, and the phone's session is gone while this one stays.
    response = await client.post(
        "/settings/password",
        form={
            "csrf_token": token,
            "current_password": TEST_PASSWORD,
            "new_password": "new password 123",
            "confirm_password": "new password 123",
        },
    )
    assert response.status_code == 302
    assert (await User.get(id=alice.user.id)).password_hash != before
    assert await Session.filter(user_id=alice.user.id).count() == 1
    assert (await phone.get("/settings/profile")).status_code == 302
    assert (await client.get("/settings/profile")).status_code == 200


# --- WEB-08: arrays ---------------------------------------------------------------------------


async def test_web08_array_fields_rejected_cleanly(client) -> None:
    token = await page_token(client, "/signup")
    for body in (
        f"csrf_token={token}&username=bob&password=long+enough+pw&email[]=a@b.example",
        f"csrf_token={token}&username=bob&username=eve&password=long+enough+pw",
    ):
        response = await client.post(
            "/signup", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 400
    assert await Account.all().count() == 0


# --- WEB-09: headers --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/signup", "/no-such-page"])
async def test_web09_security_headers_on_html(client, path) -> None:
    response = await client.get(path)
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


# --- XSS-09 / XSS-06 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "\t//evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
    ],
)
def test_xss09_next_only_relative(target) -> None:
    assert safe_next(target) == "/"


async def test_xss09_login_redirects_only_same_origin(app, make_local_account) -> None:
    await make_local_account("alice")
    for target, expected in (
        ("//evil.example/x", "/"),
        ("/settings/profile?tab=1", "/settings/profile?tab=1"),
    ):
        client = app.test_client()
        token = await page_token(client, "/login")
        response = await client.post(
            "/login",
            query_string={"next": target},
            form={"username": "alice", "password": TEST_PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == expected


async def test_xss06_display_name_is_escaped(client, make_local_account, login) -> None:
    alice = await make_local_account("alice")
    token = await login(client, alice)
    evil = ':x" onerror="alert(1)" <script>alert(2)</script>'
    response = await client.post(
        "/settings/profile", form={"csrf_token": token, "display_name": evil, "bio": evil}
    )
    assert response.status_code == 302
    html = await (await client.get("/settings/profile")).get_data(as_text=True)
    assert "<script>alert(2)" not in html and 'onerror="alert(1)"' not in html
    assert "&lt;script&gt;" in html
    assert csrf_from(html) == token
