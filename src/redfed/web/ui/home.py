"""The home page tabs: Explore (`/`, `/explore`) and Following (`/following`).

Explore is "newest first" for now; the feed engineer swaps in the ranked feed by changing the
one line in `_explore_notes`.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g

from redfed.models import Account, Note
from redfed.services import timelines
from redfed.web import security
from redfed.web.ui.notes import max_id_arg, render_grid

bp = Blueprint("home", __name__)


async def _explore_notes(viewer: Account | None, max_id: int | None) -> list[Note]:
    return await timelines.explore_newest(viewer, max_id=max_id)


@bp.get("/")
@bp.get("/explore")
async def explore() -> Any:
    notes = await _explore_notes(g.get("viewer"), max_id_arg())
    return await render_grid("timelines/home.html", notes, tab="explore")


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
