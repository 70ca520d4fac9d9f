"""Search: people by name, notes by title or `#tag` (`/search?q=`)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g, redirect, request

from redfed.errors import NotFound
from redfed.services import timelines
from redfed.services.lookup import lookup
from redfed.web import security
from redfed.web.ui.notes import avatar_urls, max_id_arg, render_grid

bp = Blueprint("search", __name__)
MAX_QUERY = 200


def _looks_remote(query: str) -> bool:
    return query.startswith(("https://", "http://")) or query.lstrip("@").count("@") == 1


@bp.get("/search")
async def search() -> Any:
    query = request.args.get("q", "")[:MAX_QUERY].strip()
    viewer = g.get("viewer")
    people = [] if query.startswith(("#", "＃")) else await timelines.search_accounts(viewer, query)
    if viewer is not None and _looks_remote(query):
        try:  # `@user@domain` or a URL: ask the remote server (WebFinger / AS2 fetch)
            found = await lookup(security.runtime(), query)
        except NotFound:
            found = None
        if found is not None and found.note is not None:
            return redirect(f"/notes/{found.note.id}")
        if found is not None and found.account is not None:
            return redirect(f"/@{found.account.acct}")
    notes = await timelines.search_notes(viewer, query, max_id=max_id_arg())
    return await render_grid(
        "timelines/search.html", notes, q=query, people=people, avatars=await avatar_urls(people)
    )
