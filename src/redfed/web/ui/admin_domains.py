"""`/admin/domains`: instance blocks of other servers (suspend, silence, reject media) — list, add
or change, remove. The rules live in services/moderation.py; this page only collects the form."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, flash, redirect, render_template

from redfed.errors import ValidationError
from redfed.models import DomainSeverity
from redfed.services import moderation
from redfed.web import security
from redfed.web.i18n import gettext as _

bp = Blueprint("admin_domains", __name__, url_prefix="/admin/domains")
PAGE = "/admin/domains"
MAX_REASON = 2000


def _severities() -> list[tuple[str, str]]:
    return [
        (DomainSeverity.SUSPEND.value, _("Suspend: refuse its traffic and remove its content")),
        (DomainSeverity.SILENCE.value, _("Silence: keep it out of public pages and Explore")),
        (DomainSeverity.NOOP.value, _("None: only the media rule below")),
    ]


async def _render(values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    html = await render_template(
        "admin/domains.html",
        blocks=await moderation.list_domain_blocks(),
        severities=_severities(),
        values=values,
        errors=errors,
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


@bp.get("")
@security.admin_required
async def index() -> Any:
    return await _render({"severity": DomainSeverity.SUSPEND.value}, {})


@bp.post("")
@security.admin_required
async def add() -> Any:
    form = await security.read_form()
    values = {k: v for k, v in form.items() if k != security.CSRF_FIELD}
    try:
        block = await moderation.block_domain(
            str(form.get("domain", "")),
            severity=str(form.get("severity", DomainSeverity.SUSPEND.value)),
            reject_media=form.get("reject_media") == "on",
            reason=str(form.get("reason", ""))[:MAX_REASON],
        )
    except ValidationError as exc:
        return await _render(values, {exc.field or "form": _(exc.public_message)}, 422)
    await flash(_("%(domain)s is blocked.", domain=block.domain))
    return redirect(PAGE)


@bp.post("/remove")
@security.admin_required
async def remove() -> Any:
    form = await security.read_form()
    domain = str(form.get("domain", ""))
    try:
        found = await moderation.unblock_domain(domain)
    except ValidationError as exc:
        await flash(_(exc.public_message))
        return redirect(PAGE)
    if found:
        await flash(_("%(domain)s is no longer blocked.", domain=domain.strip().lower()))
    else:
        await flash(_("That domain was not blocked."))
    return redirect(PAGE)
