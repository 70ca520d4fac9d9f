"""Sign up, log in, log out."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, flash, g, redirect, render_template, request

from redfed.content.hashtags import normalize_tags
from redfed.errors import Forbidden, RateLimited, RedfedError, Unauthorized
from redfed.services import accounts, registration, sessions
from redfed.web import security
from redfed.web.i18n import gettext as _
from redfed.web.i18n import select_locale

bp = Blueprint("auth", __name__)


def _settings() -> Any:
    return security.runtime().settings


async def _render_login(error: str = "", status: int = 200, username: str = "") -> Response:
    html = await render_template(
        "auth/login.html",
        error=error,
        username=username,
        next=security.safe_next(request.args.get("next"), ""),
        mode=_settings().registration.mode,
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


@bp.get("/login")
async def login_form() -> Any:
    if g.viewer is not None:
        return redirect(security.safe_next(request.args.get("next")))
    return await _render_login()


@bp.post("/login")
async def login() -> Any:
    form = await security.read_form()
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))
    limiter = security.login_limiter()
    keys = (f"ip:{security.client_ip()}", f"acct:{username.lower()}")
    wait = max(limiter.retry_after(k) for k in keys)
    if wait:
        raise RateLimited(_("Too many failed log-ins. Try again later."), retry_after=wait)
    try:
        user = await accounts.authenticate(username, password)
    except Unauthorized:
        for key in keys:
            limiter.record(key)
        return await _render_login(_("Wrong username or password."), 401, username)
    except Forbidden as exc:
        return await _render_login(_(exc.public_message), 403, username)
    limiter.clear(keys[1])
    return await _start_session(user, security.safe_next(request.args.get("next")))


async def _start_session(user: Any, target: str) -> Response:
    # A fresh session id at every log-in; any session the browser held before ends (WEB-02).
    old = request.cookies.get(security.SESSION_COOKIE)
    if old:
        await sessions.delete_session(old)
    token, _session = await sessions.create_session(
        user, user_agent=request.headers.get("User-Agent", "")
    )
    response = redirect(target)
    security.set_session_cookie(response, token)
    return response


@bp.post("/logout")
async def logout() -> Any:
    token = request.cookies.get(security.SESSION_COOKIE)
    if token:
        await sessions.delete_session(token)
    response = redirect("/")
    security.clear_session_cookie(response)
    return response


async def _render_signup(
    values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    html = await render_template(
        "auth/signup.html",
        values=values,
        errors=errors,
        status=status,
        mode=_settings().registration.mode,
        min_password_length=_settings().registration.min_password_length,
        suggested_interests=registration.SUGGESTED_INTERESTS,
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


@bp.get("/signup")
async def signup_form() -> Any:
    mode = _settings().registration.mode
    values = {"invite_code": request.args.get("invite", ""), "locale": select_locale()}
    return await _render_signup(values, {}, 403 if mode == "closed" else 200)


def _signup_from_form(form: dict[str, Any]) -> registration.SignUp:
    free = str(form.get("other_interests", "")).replace(",", " ").replace("，", " ").split()
    return registration.SignUp(
        username=str(form.get("username", "")),
        password=str(form.get("password", "")),
        email=str(form.get("email", "")) or None,
        interests=tuple(normalize_tags([*form["interests"], *free], limit=20)),
        locale=str(form.get("locale", "")),
        invite_code=str(form.get("invite_code", "")),
        reason=str(form.get("reason", ""))[:2000],
    )


@bp.post("/signup")
async def signup() -> Any:
    form = await security.read_form(multi=("interests",))
    signup = _signup_from_form(form)
    values = {k: v for k, v in form.items() if k not in ("password", security.CSRF_FIELD)}
    try:
        account = await registration.register_local_account(_settings(), signup)
    except RedfedError as exc:
        if exc.status >= 500:
            raise
        field = getattr(exc, "field", None) or "form"
        return await _render_signup(values, {field: _(exc.public_message)}, exc.status)
    user = account.user  # type: ignore[attr-defined]
    if user.locale:
        g.locale = user.locale  # what follows speaks the language just picked on the form
    if not user.approved:
        html = await render_template("auth/pending.html")
        return Response(html, content_type="text/html; charset=utf-8")
    await flash(_("Welcome to %(name)s!", name=_settings().instance.name))
    return await _start_session(user, "/")
