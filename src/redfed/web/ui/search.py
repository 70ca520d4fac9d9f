"""Search: people by name, notes by title or `#tag` (`/search?q=`)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g, request

from redfed.services import timelines
from redfed.web.ui.notes import avatar_urls, max_id_arg, render_grid

bp = Blueprint("search", __name__)
MAX_QUERY = 200


@bp.get("/search")
async def search() -> Any:
    query = request.args.get("q", "")[:MAX_QUERY].strip()
    viewer = g.get("viewer")
    people = [] if query.startswith(("#", "＃")) else await timelines.search_accounts(viewer, query)
    notes = await timelines.search_notes(viewer, query, max_id=max_id_arg())
    return await render_grid(
        "timelines/search.html", notes, q=query, people=people, avatars=await avatar_urls(people)
    )
