"""The interest feed's web side: the ranked Explore grid with "why" chips, the event beacons
(impressions, open, dwell), "not interested" / "show fewer from this author", and the person's
own pages `/settings/interests` and `/settings/feed-data`.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from quart import Blueprint, Response, flash, g, jsonify, redirect, render_template, request

from redfed.content.hashtags import normalize_tag
from redfed.errors import BadRequest
from redfed.models import Account, Note
from redfed.services.feed import events, signals
from redfed.services.feed.explain import reason_text
from redfed.services.feed.explore import ExplorePage, explore_page
from redfed.services.feed.types import FeedEvent as Kind
from redfed.services.feed.types import Reason, ReasonKind
from redfed.services.timelines import explore_newest
from redfed.services.visibility import require_visible, visible_notes_query
from redfed.web import security
from redfed.web.i18n import gettext as _
from redfed.web.i18n import select_locale
from redfed.web.ui.notes import html_page, note_cards

log = logging.getLogger(__name__)

bp = Blueprint("feed", __name__)
MAX_WEIGHT = 10.0
_KEY_PREFIXES = ("tag:", "lang:", "author:")


# --- Explore ----------------------------------------------------------------------------------


def _reason_view(reason: Reason, locale: str) -> dict[str, str]:
    href = ""
    if reason.kind is ReasonKind.INTEREST_TAG and reason.param("tag"):
        href = f"/tags/{reason.param('tag')}"
    return {"kind": reason.kind.value, "text": reason_text(reason, locale), "href": href}


async def explore_cards(page: ExplorePage) -> list[dict[str, Any]]:
    """Grid cards with their reasons and the menu state (chronological cards say so)."""
    notes = [note for note, _reasons in page.cards]
    await Note.fetch_for_list(notes, "media")
    cards = await note_cards(notes)
    locale, back = select_locale(), request.full_path.rstrip("?")
    newest = {"kind": "chronological", "text": _("Newest first"), "href": "/settings/interests"}
    for card, (_note, reasons) in zip(cards, page.cards, strict=True):
        card["reasons"] = [_reason_view(r, locale) for r in reasons] or [newest]
        card["feed_menu"] = g.get("viewer") is not None
        card["back"] = back
    return cards


async def explore_response(viewer: Account | None) -> Response:
    """The Explore tab: one ranked page (`?cursor=` continues it), or only its cards for the
    infinite-scroll script (`?partial=1`)."""
    cursor = request.args.get("cursor", "") or None  # explore_page rejects oversized ones
    settings = security.runtime().settings
    page = await explore_page(viewer, cursor, settings, user=g.get("viewer_user"))
    cards = await explore_cards(page)
    context = {"cards": cards, "next_cursor": page.next_cursor if cards else None}
    if request.args.get("partial") == "1":
        return html_page(await render_template("feed/_cards.html", **context))
    # Explore leaves out what the person saw lately: on a small server it runs dry while
    # there are notes, and "no notes yet" would be untrue (one more read, empty pages only).
    caught_up = not cards and viewer is not None and bool(await explore_newest(viewer))
    html = await render_template("feed/explore.html", tab="explore", caught_up=caught_up, **context)
    return html_page(html)


# --- beacons and the card menu ------------------------------------------------------------------


async def _payload() -> dict[str, Any]:
    """A JSON object (fetch with X-CSRF-Token) or a form (sendBeacon, no-JS forms)."""
    if request.is_json:
        data = await request.get_json(silent=True)
        if not isinstance(data, dict):
            raise BadRequest("Send a JSON object.")
        return data
    return await security.read_form(multi=("note_id",))


async def _visible_note(note_id: int) -> Note:
    """The note when the viewer may see it; NotFound otherwise (nothing is recorded)."""
    note = await Note.get_or_none(id=note_id).prefetch_related("account")
    return await require_visible(g.viewer, note)


def _ids(raw: Any) -> list[int]:
    values = raw if isinstance(raw, list) else [raw]
    out = [int(v) for v in values if isinstance(v, int | str) and str(v).isdigit()]
    return out[: events.MAX_IMPRESSIONS]


@bp.post("/feed/impressions")
@security.login_required
async def impressions() -> Any:
    """One beacon for the cards of a page that came into view: one read, one write."""
    data = await _payload()
    ids = _ids(data.get("note_ids", data.get("note_id", [])))
    visible: list[int] = []
    if ids:
        query = (await visible_notes_query(g.viewer)).filter(id__in=ids)
        visible = [int(i) for i in await query.values_list("id", flat=True)]  # type: ignore[call-overload]
    recorded = await events.record_impressions(g.viewer, visible)
    return jsonify({"recorded": recorded})


@bp.post("/feed/notes/<int:note_id>/open")
@security.login_required
async def opened(note_id: int) -> Any:
    await _payload()
    note = await _visible_note(note_id)
    await events.record_event(g.viewer, Kind.OPEN, note, await _fs())
    return jsonify({"recorded": 1})


@bp.post("/feed/notes/<int:note_id>/dwell")
@security.login_required
async def dwell(note_id: int) -> Any:
    data = await _payload()
    try:
        seconds = float(str(data.get("seconds", "")))
    except ValueError:
        raise BadRequest("seconds must be a number.") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise BadRequest("seconds must be a positive number.")
    note = await _visible_note(note_id)
    await events.record_event(g.viewer, Kind.DWELL, note, await _fs(), value=seconds)
    return jsonify({"recorded": 1})


async def _feedback(note_id: int, kind: Kind, message: str) -> Any:
    data = await _payload()
    note = await _visible_note(note_id)
    await events.record_event(g.viewer, kind, note, await _fs())
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify({"recorded": 1, "message": message})
    await flash(message)
    return redirect(security.safe_next(str(data.get("next", "")), "/"), 303)


@bp.post("/feed/notes/<int:note_id>/not-interested")
@security.login_required
async def not_interested(note_id: int) -> Any:
    return await _feedback(note_id, Kind.NOT_INTERESTED, _("Got it: fewer notes like this."))


@bp.post("/feed/notes/<int:note_id>/show-fewer")
@security.login_required
async def show_fewer(note_id: int) -> Any:
    return await _feedback(
        note_id, Kind.SHOW_FEWER_FROM_AUTHOR, _("Got it: fewer notes from this author.")
    )


async def _fs() -> Any:
    return await signals.feed_settings(security.runtime().settings)


# --- /settings/interests ------------------------------------------------------------------------


async def _interest_rows(account: Account) -> list[dict[str, Any]]:
    fs = await _fs()
    profile = await signals.load_profile(account.id)
    weights = profile.weights(signals.utcnow(), fs.profile_half_life_days)
    author_ids = [int(k[7:]) for k in weights if k.startswith("author:") and k[7:].isdigit()]
    found = await Account.filter(id__in=author_ids).values_list("id", "username", "domain")
    names = {int(i): f"@{u}" + (f"@{d}" if d else "") for i, u, d in found}
    rows = []
    for key, weight in sorted(weights.items(), key=lambda kv: -abs(kv[1])):
        kind, _sep, value = key.partition(":")
        label = {"tag": f"#{value}", "lang": value}.get(kind) or names.get(_int(value), key)
        rows.append({"key": key, "kind": kind, "label": label, "weight": round(weight, 2)})
    return rows


def _int(raw: str) -> int:
    return int(raw) if raw.isdigit() else 0


@bp.get("/settings/interests")
@security.login_required
async def interests_page() -> Any:
    html = await render_template(
        "feed/interests.html",
        rows=await _interest_rows(g.viewer),
        feed_mode=g.viewer_user.feed_mode,
        max_weight=MAX_WEIGHT,
    )
    return html_page(html)


def _weight(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(_("The weight must be a number.")) from None
    if not math.isfinite(value):
        raise BadRequest(_("The weight must be a number."))
    return max(-MAX_WEIGHT, min(MAX_WEIGHT, value))


def _interest_key(form: dict[str, Any]) -> str:
    """An existing key (`tag:…`, `lang:…`, `author:…`), or a new tag typed by the person."""
    key = str(form.get("key", ""))
    if key.startswith(_KEY_PREFIXES) and 4 < len(key) <= 140:
        return key
    tag = normalize_tag(str(form.get("tag", "")))
    if tag is None:
        raise BadRequest(_("Type a hashtag, like #travel."))
    return "tag:" + tag


@bp.post("/settings/interests")
@security.login_required
async def interests_save() -> Any:
    form = await security.read_form()
    key = _interest_key(form)
    await signals.set_weight(g.viewer.id, key, _weight(str(form.get("weight", "0"))), await _fs())
    await flash(_("Your interests are saved."))
    return redirect("/settings/interests", 303)


@bp.post("/settings/interests/reset")
@security.login_required
async def interests_reset() -> Any:
    await security.read_form()
    await signals.reset_profile(g.viewer.id)
    await flash(_("Your interests are reset. Explore starts afresh."))
    return redirect("/settings/interests", 303)


@bp.post("/settings/interests/mode")
@security.login_required
async def feed_mode_save() -> Any:
    form = await security.read_form()
    mode = str(form.get("feed_mode", ""))
    if mode not in signals.FEED_MODES:
        raise BadRequest(_("Choose Explore or newest first."))
    await signals.set_feed_mode(g.viewer_user.id, mode)
    await flash(_("Your Explore setting is saved."))
    return redirect("/settings/interests", 303)


# --- /settings/feed-data ------------------------------------------------------------------------


def _event_label(kind: str) -> str:
    """What a kept event is, in the person's words and language (its code name otherwise)."""
    labels: dict[str, str] = {
        Kind.IMPRESSION: _("Cards shown to you"),
        Kind.OPEN: _("Notes opened"),
        Kind.DWELL: _("Time spent on a note"),
        Kind.LIKE: _("Likes"),
        Kind.COLLECT: _("Collects"),
        Kind.COMMENT: _("Comments"),
        Kind.SHARE: _("Shares"),
        Kind.FOLLOW: _("Follows"),
        Kind.NOT_INTERESTED: _("Not interested"),
        Kind.SHOW_FEWER_FROM_AUTHOR: _("Show fewer from this author"),
        Kind.REPORT: _("Reports"),
    }
    return labels.get(kind, kind)


@bp.get("/settings/feed-data")
@security.login_required
async def feed_data_page() -> Any:
    data = await events.export_events(g.viewer)
    counts: dict[str, int] = {}
    for event in data["events"]:
        counts[event["kind"]] = counts.get(event["kind"], 0) + 1
    labels = {kind: _event_label(kind) for kind in counts}
    html = await render_template(
        "feed/feed_data.html",
        counts=sorted(counts.items()),
        labels=labels,
        total=len(data["events"]),
        interests=len(data["interests"]),
        retention_days=data["retention_days"],
    )
    return html_page(html)


@bp.get("/settings/feed-data/export")
@security.login_required
async def feed_data_export() -> Any:
    data = await events.export_events(g.viewer)
    body = json.dumps(data, ensure_ascii=False, indent=1, default=str)
    response = Response(body, content_type="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="redfed-feed-data.json"'
    return response


@bp.post("/settings/feed-data/reset")
@security.login_required
async def feed_data_reset() -> Any:
    await security.read_form()
    removed = await events.reset_events(g.viewer)
    log.info("feed.data_reset events=%d", removed)
    await flash(_("Everything Explore kept about you is erased."))
    return redirect("/settings/feed-data", 303)


def feed_blueprints() -> list[Blueprint]:
    """The feed pages and the admin page, for web/blueprints.py."""
    from redfed.web.ui import admin_feed

    return [bp, admin_feed.bp]
