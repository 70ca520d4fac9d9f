"""The notifications page (`/notifications`): newest first; opening it marks them read."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g, render_template

from redfed.services import notifications
from redfed.web import security
from redfed.web.ui.notes import avatar_urls, html_page, max_id_arg

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@security.login_required
async def index() -> Any:
    items = await notifications.list_notifications(g.viewer, max_id=max_id_arg())
    unread = {n.id for n in items if not n.read}
    await notifications.mark_all_read(g.viewer)
    more = items[-1].id if len(items) >= notifications.PAGE_SIZE else None
    return html_page(
        await render_template(
            "notifications/index.html",
            items=items,
            unread=unread,
            next_max_id=more,
            avatars=await avatar_urls([n.actor for n in items]),
        )
    )
