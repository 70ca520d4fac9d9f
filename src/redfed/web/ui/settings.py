"""Settings pages: profile (name, bio, images, languages, interests, locked), account (reading
preferences), password, interface language, and the top bar's language switch (works logged out)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, flash, g, redirect, render_template, request

from redfed.errors import RedfedError, ValidationError
from redfed.models import User
from redfed.services import accounts, profiles, sessions
from redfed.web import security
from redfed.web.i18n import LANGUAGE_COOKIE
from redfed.web.i18n import gettext as _

bp = Blueprint("settings", __name__, url_prefix="/settings")
_IMAGE_FIELDS = ("avatar", "header")


def _settings() -> Any:
    return security.runtime().settings


def _page(html: str, status: int = 200) -> Response:
    return Response(html, status=status, content_type="text/html; charset=utf-8")


@bp.get("")
@security.login_required
async def index() -> Any:
    return redirect("/settings/profile")


async def _render_profile(errors: dict[str, str], status: int = 200) -> Response:
    return _page(
        await render_template(
            "settings/profile.html",
            errors=errors,
            account=g.viewer,
            known_languages=profiles.KNOWN_LANGUAGES,
            avatar=await profiles.profile_image(g.viewer, "avatar"),
            header=await profiles.profile_image(g.viewer, "header"),
        ),
        status,
    )


@bp.get("/profile")
@security.login_required
async def profile_form() -> Any:
    return await _render_profile({})


@bp.post("/profile")
@security.login_required
async def profile_save() -> Any:
    form = await security.read_form(multi=("languages",))
    edit = profiles.ProfileEdit(
        display_name=str(form.get("display_name", "")),
        bio=str(form.get("bio", "")),
        languages=tuple(form["languages"]),
        locked=form.get("locked") == "on",
    )
    try:
        await profiles.update_profile(_settings(), g.viewer, edit)
        files = await request.files
        for kind in _IMAGE_FIELDS:
            upload = files.get(kind)
            if upload is not None and upload.filename:
                await profiles.set_profile_image(_settings(), g.viewer, kind, upload.read())
    except ValidationError as exc:
        return await _render_profile({exc.field or "form": _(exc.public_message)}, 422)
    await flash(_("Your profile is saved."))
    return redirect("/settings/profile")


async def _render(template: str, errors: dict[str, str], status: int = 200) -> Response:
    return _page(
        await render_template(
            template,
            errors=errors,
            min_password_length=_settings().registration.min_password_length,
        ),
        status,
    )


@bp.get("/account")
@security.login_required
async def account_form() -> Any:
    return await _render("settings/account.html", {})


@bp.post("/account")
@security.login_required
async def account_save() -> Any:
    form = await security.read_form()
    auto_translate = form.get("auto_translate") == "on"
    # One preference flag of the viewer's own row: no rule beyond "a user sets their own".
    await User.filter(id=g.viewer_user.id).update(auto_translate=auto_translate)
    await flash(_("Your preferences are saved."))
    return redirect("/settings/account")


@bp.get("/password")
@security.login_required
async def password_form() -> Any:
    return await _render("settings/password.html", {})


@bp.get("/language")
@security.login_required
async def language_form() -> Any:
    return await _render("settings/language.html", {})


@bp.post("/locale")
@security.login_required
async def locale_save() -> Any:
    form = await security.read_form()
    try:
        await profiles.set_ui_locale(_settings(), g.viewer_user, str(form.get("locale", "")))
    except ValidationError as exc:
        return await _render("settings/language.html", {"locale": _(exc.public_message)}, 422)
    g.locale = None  # the confirmation below is already in the new language
    await flash(_("Your language is saved."))
    return redirect("/settings/language")


@bp.post("/password")
@security.login_required
async def password_save() -> Any:
    form = await security.read_form()
    new = str(form.get("new_password", ""))
    if new != str(form.get("confirm_password", "")):
        return await _render(
            "settings/password.html", {"confirm_password": _("The passwords do not match.")}, 422
        )
    token = request.cookies.get(security.SESSION_COOKIE, "")
    try:
        await accounts.change_password(
            _settings(),
            g.viewer_user,
            str(form.get("current_password", "")),
            new,
            keep_token_hash=sessions.token_hash(token),
        )
    except RedfedError as exc:
        if exc.status >= 500:
            raise
        field = getattr(exc, "field", None) or "form"
        return await _render("settings/password.html", {field: _(exc.public_message)}, exc.status)
    await flash(_("Your password is changed. Other devices were logged out."))
    return redirect("/settings/password")


@bp.post("/language")
async def language_switch() -> Any:
    """The top bar's switch: a cookie for everyone, and the saved setting when logged in."""
    form = await security.read_form()
    locale = str(form.get("locale", ""))
    target = security.safe_next(str(form.get("next", "")))
    if locale not in _settings().ui.languages:
        raise ValidationError(_("This language is not available."), field="locale")
    if g.viewer_user is not None:
        await profiles.set_ui_locale(_settings(), g.viewer_user, locale)
    response = redirect(target)
    response.set_cookie(
        LANGUAGE_COOKIE,
        locale,
        max_age=365 * 86400,
        samesite="Lax",
        httponly=True,
        secure=_settings().instance.scheme == "https",
    )
    return response
