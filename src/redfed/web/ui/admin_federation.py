"""`/admin/federation`: the delivery queue by kind and state, failing or unavailable domains with
their circuit breaker, dead deliveries with their last error, and retrying them — the same
actions as `redfed queue retry [--domain D] --dead`.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, flash, redirect, render_template

from redfed.services import jobs
from redfed.web import security
from redfed.web.i18n import gettext as _

bp = Blueprint("admin_federation", __name__, url_prefix="/admin/federation")
PAGE = "/admin/federation"
STATES = ("queued", "running", "done", "dead")


@bp.get("")
@security.admin_required
async def index() -> Any:
    counts = await jobs.queue_counts()
    html = await render_template(
        "admin/federation.html",
        counts=sorted(counts.items()),
        states=STATES,
        domains=await jobs.troubled_domains(),
        dead=await jobs.dead_jobs(),
        now=jobs.utcnow(),
    )
    return Response(html, content_type="text/html; charset=utf-8")


@bp.post("/retry")
@security.admin_required
async def retry() -> Any:
    form = await security.read_form()  # CSRF was checked before the view runs
    domain = str(form.get("domain", "")).strip().lower()[:253]
    count = await jobs.retry_jobs(domain=domain, dead=True)
    security.runtime().jobs_waiting.set()  # wake an in-process worker now
    if domain:
        await flash(_("%(count)d job(s) for %(domain)s are due now.", count=count, domain=domain))
    else:
        await flash(_("%(count)d job(s) are due now.", count=count))
    return redirect(PAGE, 303)
