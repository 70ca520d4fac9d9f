"""`/admin/feed`: the instance's Explore knobs — author damping α, the share of slots for new
creators, and which remote notes Explore may show (all / followed by someone here / none).
Stored in the one FeedConfig row that `services.feed.signals.load_config` reads.
"""

from __future__ import annotations

import math
from typing import Any

from quart import Blueprint, Response, flash, redirect, render_template

from redfed.errors import ValidationError
from redfed.services.feed import signals
from redfed.web import security
from redfed.web.i18n import gettext as _

bp = Blueprint("admin_feed", __name__, url_prefix="/admin/feed")
PAGE = "/admin/feed"
REMOTE_POLICIES = signals.REMOTE_POLICIES
ALPHA_RANGE = (0.0, 2.0)
SHARE_RANGE = (0.0, 0.5)


async def _render(errors: dict[str, str], values: dict[str, Any], status: int = 200) -> Response:
    html = await render_template(
        "admin/feed.html",
        errors=errors,
        values=values,
        policies=REMOTE_POLICIES,
        alpha_range=ALPHA_RANGE,
        share_range=SHARE_RANGE,
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


@bp.get("")
@security.admin_required
async def index() -> Any:
    cfg = await signals.load_config(security.runtime().settings)
    values = {
        "alpha": cfg.alpha,
        "new_creator_share": cfg.new_creator_share,
        "remote_in_explore": cfg.remote_in_explore,
    }
    return await _render({}, values)


def _number(raw: Any, bounds: tuple[float, float], field: str) -> float:
    try:
        value = float(str(raw))
    except ValueError:
        raise ValidationError(_("Enter a number."), field=field) from None
    if not math.isfinite(value) or not bounds[0] <= value <= bounds[1]:
        raise ValidationError(
            _("Enter a number from %(low)s to %(high)s.", low=bounds[0], high=bounds[1]),
            field=field,
        )
    return value


@bp.post("")
@security.admin_required
async def save() -> Any:
    form = await security.read_form()
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for name, bounds in (("alpha", ALPHA_RANGE), ("new_creator_share", SHARE_RANGE)):
        try:
            parsed[name] = _number(form.get(name, ""), bounds, name)
        except ValidationError as exc:
            errors[name] = exc.public_message
    policy = str(form.get("remote_in_explore", ""))
    if policy not in REMOTE_POLICIES:
        errors["remote_in_explore"] = _("Choose one of the options.")
    if errors:
        return await _render(errors, dict(form), 422)
    await signals.save_config(parsed["alpha"], parsed["new_creator_share"], policy)
    await flash(_("The Explore settings are saved."))
    return redirect(PAGE, 303)
