"""Tag pages: `/tags/<tag>`, public notes carrying the tag, newest first."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g

from redfed.content.hashtags import normalize_tag
from redfed.errors import NotFound
from redfed.services import timelines
from redfed.web.ui.notes import max_id_arg, render_grid

bp = Blueprint("tags", __name__)


@bp.get("/tags/<tag>")
async def tag(tag: str) -> Any:
    name = normalize_tag(tag)
    if name is None:
        raise NotFound()
    notes = await timelines.tag_notes(g.get("viewer"), name, max_id=max_id_arg())
    return await render_grid("timelines/tag.html", notes, tag=name)
