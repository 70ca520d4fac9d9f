"""Profiles (`/@name`, `/@name@domain`): notes grid, counts, the owner's collections tab,
follow / unfollow / block / mute buttons, and the follow requests page."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, flash, g, redirect, render_template, request

from redfed.errors import NotFound, RedfedError
from redfed.models import Account, Note
from redfed.services import follows, relationships, timelines
from redfed.services.lookup import lookup
from redfed.services.profiles import profile_image
from redfed.services.visibility import visible_account
from redfed.web import security
from redfed.web.i18n import gettext as _
from redfed.web.ui.notes import avatar_urls, html_page, max_id_arg, render_grid

bp = Blueprint("profiles", __name__)


async def _likes_received(account: Account) -> int:
    counts = await Note.filter(account_id=account.id).values_list("likes_count", flat=True)
    return sum(int(c) for c in counts)


async def _find(viewer: Account | None, name: str) -> Account:
    """A known account, or — for a logged-in viewer and a `name@domain` this server has not
    met yet — the account fetched by WebFinger (the same lookup as the search box)."""
    try:
        return await visible_account(viewer, name)
    except NotFound:
        if viewer is None or "@" not in name.lstrip("@"):
            raise
    found = await lookup(security.runtime(), "@" + name.lstrip("@"))
    if found.account is None:
        raise NotFound()
    return await visible_account(viewer, found.account.acct)


@bp.get("/@<name>")
async def profile(name: str) -> Any:
    viewer = g.get("viewer")
    account = await _find(viewer, name)
    is_owner = viewer is not None and viewer.id == account.id
    tab = request.args.get("tab", "notes")
    if tab == "collections" and not is_owner:
        raise NotFound()  # collections are private: they do not exist for anyone else
    if tab == "collections":
        notes = await timelines.collected_notes(account, max_id=max_id_arg())
    else:
        notes = await timelines.profile_notes(viewer, account, max_id=max_id_arg())
    header = await profile_image(account, "header")
    return await render_grid(
        "profiles/profile.html",
        notes,
        account=account,
        tab=tab,
        is_owner=is_owner,
        follow_state=await follows.follow_state(viewer, account),
        relationship=await relationships.relationship(viewer, account),
        likes_received=await _likes_received(account),
        avatar=(await avatar_urls([account])).get(account.id),
        header=f"/media/{header.file_key}" if header else None,
    )


@bp.get("/collections")
@security.login_required
async def my_collections() -> Any:
    return redirect(f"/@{g.viewer.username}?tab=collections")


_ACTIONS = {
    "follow": lambda rt, me, them: follows.follow_account(rt, me, them),
    "unfollow": lambda rt, me, them: follows.unfollow_account(rt, me, them),
    "block": lambda rt, me, them: relationships.block_account(rt, me, them),
    "unblock": lambda rt, me, them: relationships.unblock_account(rt, me, them),
    "mute": lambda rt, me, them: relationships.mute_account(me, them),
    "unmute": lambda rt, me, them: relationships.unmute_account(me, them),
}


@bp.post("/@<name>/<any(follow, unfollow, block, unblock, mute, unmute):action>")
@security.login_required
async def relationship_action(name: str, action: str) -> Any:
    # Unblocking must find an account the viewer currently blocks, which visibility hides.
    target = await (visible_account(None, name) if action == "unblock" else _find(g.viewer, name))
    try:
        await _ACTIONS[action](security.runtime(), g.viewer, target)
    except NotFound:
        raise
    except RedfedError as exc:
        await flash(_(exc.public_message))
    return redirect(f"/@{target.acct}")


@bp.get("/follow_requests")
@security.login_required
async def follow_requests() -> Any:
    pending = await follows.pending_requests(g.viewer)
    return html_page(
        await render_template(
            "profiles/follow_requests.html",
            requests=pending,
            avatars=await avatar_urls([f.follower for f in pending]),
        )
    )


@bp.post("/follow_requests/<int:follow_id>/<any(accept, reject):decision>")
@security.login_required
async def decide(follow_id: int, decision: str) -> Response:
    if decision == "accept":
        await follows.accept_follow(security.runtime(), g.viewer, follow_id)
    else:
        await follows.reject_follow(security.runtime(), g.viewer, follow_id)
    return redirect("/follow_requests")  # type: ignore[return-value]
