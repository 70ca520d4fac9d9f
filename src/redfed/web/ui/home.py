"""The home page tabs: Explore (`/`, `/explore`) and Following (`/following`).

Explore is the ranked interest feed (`web.ui.feed.explore_response`: `?cursor=` paging, "why"
chips); people who chose "newest first", and anonymous visitors, get their page from it too.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g

from redfed.services import timelines
from redfed.web import security
from redfed.web.ui.feed import explore_response
from redfed.web.ui.notes import max_id_arg, render_grid

bp = Blueprint("home", __name__)


@bp.get("/")
@bp.get("/explore")
async def explore() -> Any:
    return await explore_response(g.get("viewer"))


@bp.get("/following")
@security.login_required
async def following() -> Any:
    notes = await timelines.following(g.viewer, max_id=max_id_arg())
    return await render_grid("timelines/home.html", notes, tab="following")


def content_blueprints() -> list[Blueprint]:
    """The note, profile, tag, search, notification and media blueprints, for web/blueprints.py."""
    from redfed.web import media
    from redfed.web.ui import notes, notifications, profiles, search, tags

    return [bp, notes.bp, profiles.bp, tags.bp, search.bp, notifications.bp, media.bp]
