"""HTML pages for people. This module wires the shell every page shares: session loading, CSRF,
security headers, locale and the template context (`viewer`, `csrf_token()`, `_`, `instance`).
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g
from quart.blueprints import BlueprintSetupState

from redfed.services.notifications import unread_count
from redfed.web import i18n, security

core = Blueprint("ui_core", __name__)


@core.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = state.app
    i18n.init_i18n(app)
    settings = app.config["REDFED_RUNTIME"].settings
    if not app.secret_key:
        # Signs Quart's cookie session, used here only for one-shot flash messages.
        app.secret_key = security.load_or_create_key(settings.data_dir / "csrf.key")
    app.config.update(
        SESSION_COOKIE_NAME="redfed_flash",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.instance.scheme == "https",
    )
    app.jinja_env.globals.update(
        csrf_token=security.csrf_token,
        translate_text=i18n.gettext,  # for dynamic messages: returns str, so it is escaped
        language_names=i18n.LANGUAGE_NAMES,
        html_lang=lambda: i18n.HTML_LANG.get(i18n.select_locale(), "en"),
    )


core.before_app_request(security.load_viewer)
core.before_app_request(security.check_csrf)
core.after_app_request(security.add_security_headers)


@core.app_context_processor
async def _template_context() -> dict[str, Any]:
    viewer = g.get("viewer")
    settings = security.runtime().settings
    unread = await unread_count(viewer) if viewer is not None else 0
    return {
        "viewer": viewer,
        "viewer_user": g.get("viewer_user"),
        "locale": i18n.select_locale(),
        "instance": settings.instance,
        "ui_languages": settings.ui.languages,
        "instance_registration_open": settings.registration.mode != "closed",
        "unread_notifications": unread,
    }


def account_blueprints() -> list[Blueprint]:
    """The shell and the account pages, for web/blueprints.py."""
    from redfed.web.ui import admin, auth, settings

    return [core, auth.bp, settings.bp, admin.bp]
