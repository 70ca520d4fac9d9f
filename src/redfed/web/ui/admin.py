"""The admin landing page `/admin`: the approval queue, invites and local users.
Other areas add their pages under `/admin/...` with their own blueprints."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from quart import Blueprint, Response, flash, g, redirect, render_template

from redfed.errors import BadRequest, Forbidden
from redfed.services import accounts, registration
from redfed.web import security
from redfed.web.i18n import gettext as _

bp = Blueprint("admin", __name__, url_prefix="/admin")
_EXPIRY_DAYS = {"1": 1, "7": 7, "30": 30, "never": None}


@bp.get("")
@security.admin_required
async def index() -> Any:
    settings = security.runtime().settings
    html = await render_template(
        "admin/index.html",
        pending=await registration.pending_users(),
        invites=await registration.list_invites(),
        users=await accounts.list_local_users(),
        mode=settings.registration.mode,
        base_url=settings.base_url,
    )
    return Response(html, content_type="text/html; charset=utf-8")


@bp.post("/users/<int:user_id>/approve")
@security.admin_required
async def approve(user_id: int) -> Any:
    await registration.approve_user(user_id)
    await flash(_("The sign-up is approved."))
    return redirect("/admin")


@bp.post("/users/<int:user_id>/reject")
@security.admin_required
async def reject(user_id: int) -> Any:
    await registration.reject_user(user_id)
    await flash(_("The sign-up is rejected."))
    return redirect("/admin")


@bp.post("/users/<username>/disable")
@security.admin_required
async def disable(username: str) -> Any:
    if username.lower() == g.viewer.username:
        raise Forbidden(_("You cannot disable your own account."))
    await accounts.set_disabled(username, True)
    await flash(_("The account is disabled."))
    return redirect("/admin")


@bp.post("/users/<username>/enable")
@security.admin_required
async def enable(username: str) -> Any:
    await accounts.set_disabled(username, False)
    await flash(_("The account is enabled."))
    return redirect("/admin")


@bp.post("/invites")
@security.admin_required
async def create_invite() -> Any:
    form = await security.read_form()
    try:
        max_uses = int(str(form.get("max_uses", "1")))
    except ValueError:
        raise BadRequest(_("The number of uses must be a number.")) from None
    days = _EXPIRY_DAYS.get(str(form.get("expires", "7")), 7)
    await registration.create_invite(
        g.viewer_user,
        max_uses=max_uses,
        expires_in=timedelta(days=days) if days is not None else None,
    )
    await flash(_("The invite link is ready."))
    return redirect("/admin")


@bp.post("/invites/<int:invite_id>/revoke")
@security.admin_required
async def revoke_invite(invite_id: int) -> Any:
    await registration.revoke_invite(invite_id)
    await flash(_("The invite is revoked."))
    return redirect("/admin")
