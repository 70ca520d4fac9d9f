"""Note pages: the note itself (`/@name/<id>`), compose, edit, delete, and the like / collect /
comment buttons (a redirect for forms, JSON when the script asks with Accept: application/json).
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, flash, g, jsonify, redirect, render_template, request

from redfed.errors import NotFound, ValidationError
from redfed.models import Account, MediaAttachment, Note, Visibility
from redfed.services import interactions, notes, timelines
from redfed.services.actor_refresh import refresh_if_stale
from redfed.services.media import PhotoUpload
from redfed.services.profiles import KNOWN_LANGUAGES
from redfed.web import security
from redfed.web.i18n import LANGUAGE_NAMES
from redfed.web.i18n import gettext as _

bp = Blueprint("notes", __name__)


# --- helpers shared by the content pages ----------------------------------------------------


def html_page(html: str, status: int = 200) -> Response:
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def next_max_id(items: list[Note], page_size: int = timelines.PAGE_SIZE) -> int | None:
    return items[-1].id if len(items) >= page_size else None


async def avatar_urls(accounts: list[Account]) -> dict[int, str]:
    """Account id → avatar URL, in one query (cards show many authors)."""
    ids = {a.avatar_media_id for a in accounts if a.avatar_media_id}
    keys = (
        # A remote avatar not fetched yet (or refused) has no file: no picture, not a broken one.
        dict(
            await MediaAttachment.filter(id__in=list(ids))
            .exclude(file_key="")
            .values_list("id", "file_key")
        )
        if ids
        else {}
    )
    return {
        a.id: f"/media/{keys[a.avatar_media_id]}/thumb"
        for a in accounts
        if a.avatar_media_id in keys
    }


async def note_cards(items: list[Note]) -> list[dict[str, Any]]:
    """View dicts for the grid: note, cover photo, author avatar, liked state."""
    viewer = g.get("viewer")
    liked = await interactions.liked_note_ids(viewer, [n.id for n in items])
    avatars = await avatar_urls([n.account for n in items])
    await refresh_if_stale(security.runtime(), [n.account for n in items])
    cards = []
    for note in items:
        media = sorted(note.media, key=lambda m: m.position)  # prefetched by timelines
        cards.append(
            {
                "note": note,
                "cover": media[0] if media else None,
                "avatar": avatars.get(note.account_id),  # type: ignore[attr-defined]
                "liked": note.id in liked,
            }
        )
    return cards


async def render_grid(template: str, items: list[Note], **context: Any) -> Response:
    """A grid page, or only its cards when the infinite-scroll script asks (`?partial=1`)."""
    cards = await note_cards(items)
    more = next_max_id(items)
    if request.args.get("partial") == "1":
        return html_page(
            await render_template("timelines/_cards.html", cards=cards, next_max_id=more)
        )
    return html_page(await render_template(template, cards=cards, next_max_id=more, **context))


def max_id_arg() -> int | None:
    raw = request.args.get("max_id", "")
    return int(raw) if raw.isdigit() and len(raw) < 20 else None


async def action_done(note: Note, redirect_to: str, **state: Any) -> Any:
    if wants_json():
        fresh = await Note.get(id=note.id)
        return jsonify(
            {**state, "likes_count": fresh.likes_count, "collects_count": fresh.collects_count}
        )
    return redirect(security.safe_next(redirect_to, note_path(note)))


def note_path(note: Note) -> str:
    return f"/@{note.account.acct}/{note.id}"


async def _note(note_id: int) -> Note:
    return await interactions.get_note(note_id, g.get("viewer"))


# --- the note page --------------------------------------------------------------------------


async def render_note(
    note: Note, errors: dict[str, str] | None = None, status: int = 200, comment_text: str = ""
) -> Response:
    viewer = g.get("viewer")
    media = await MediaAttachment.filter(note_id=note.id).order_by("position")
    tree = await timelines.thread(viewer, note)
    people = (
        [note.account]
        + [n.note.account for n in tree]
        + [r.account for n in tree for r in n.replies]
    )
    await refresh_if_stale(security.runtime(), people)
    state = await interactions.viewer_state(viewer, [note.id])
    tags = await note.note_tags.all().values_list("tag__name", flat=True)
    parent = None
    if note.in_reply_to_id is not None:  # type: ignore[attr-defined]
        parent = await Note.get_or_none(id=note.root_id or note.in_reply_to_id).prefetch_related(
            "account"
        )  # type: ignore[attr-defined]
    return html_page(
        await render_template(
            "notes/note.html",
            note=note,
            media=media,
            thread=tree,
            tags=tags,
            parent=parent,
            avatars=await avatar_urls(people),
            liked=note.id in state["liked"],
            collected=note.id in state["collected"],
            errors=errors or {},
            comment_text=comment_text,
            language_names=LANGUAGE_NAMES,
            is_author=viewer is not None and viewer.id == note.account_id,  # type: ignore[attr-defined]
        ),
        status,
    )


@bp.get("/@<name>/<int:note_id>")
async def show(name: str, note_id: int) -> Any:
    note = await _note(note_id)
    if note.account.acct.lower() != name.lower():
        raise NotFound()
    return await render_note(note)


@bp.get("/notes/<int:note_id>")
async def by_id(note_id: int) -> Any:
    """Short link used by notifications: redirects to the note's page."""
    return redirect(note_path(await _note(note_id)))


# --- compose, edit, delete ------------------------------------------------------------------


def _draft(form: dict[str, Any], visibility: str = "public") -> notes.NoteDraft:
    return notes.NoteDraft(
        title=str(form.get("title", "")),
        text=str(form.get("text", "")),
        visibility=str(form.get("visibility", visibility)),  # type: ignore[arg-type]
        language=str(form.get("language", "")),
        spoiler_text=str(form.get("spoiler_text", "")),
        sensitive=form.get("sensitive") == "on",
    )


async def _render_compose(
    values: dict[str, Any], errors: dict[str, str], status: int = 200, note: Note | None = None
) -> Response:
    viewer = g.viewer
    # No profile language: "detect automatically" is preselected, and the service detects it.
    default_language = (viewer.languages or [""])[0]
    return html_page(
        await render_template(
            "notes/compose.html",
            values=values,
            errors=errors,
            note=note,
            languages=[("", _("Detect automatically"))]
            + [(code, LANGUAGE_NAMES.get(code, code)) for code in KNOWN_LANGUAGES],
            visibilities=[v.value for v in Visibility],
            default_language=default_language,
            max_photos=security.runtime().settings.media.max_photos,
        ),
        status,
    )


async def _uploads(alt_text: str) -> list[PhotoUpload]:
    files = [f for f in (await request.files).getlist("photos") if f.filename or f.content_length]
    alts = [line.strip() for line in alt_text.splitlines()]
    uploads = []
    for index, storage in enumerate(files):
        data = storage.read()
        if not data and not storage.filename:
            continue
        uploads.append(
            PhotoUpload(data, storage.filename or "", alts[index] if index < len(alts) else "")
        )
    return uploads


@bp.get("/compose")
@security.login_required
async def compose_form() -> Any:
    return await _render_compose({}, {})


@bp.post("/compose")
@security.login_required
async def compose() -> Any:
    form = await security.read_form()
    try:
        photos = await _uploads(str(form.get("alt_text", "")))
        note = await notes.create_local_note(security.runtime(), g.viewer, _draft(form), photos)
    except ValidationError as exc:
        return await _render_compose(form, {exc.field or "form": _(exc.public_message)}, 422)
    await flash(_("Your note is posted."))
    return redirect(f"/@{g.viewer.username}/{note.id}")


async def _own(note_id: int) -> Note:
    note = await _note(note_id)
    if note.account_id != g.viewer.id:  # type: ignore[attr-defined]
        raise NotFound()
    return note


@bp.get("/notes/<int:note_id>/edit")
@security.login_required
async def edit_form(note_id: int) -> Any:
    note = await _own(note_id)
    values = {
        "title": note.title,
        "text": note.text_source,
        "spoiler_text": note.spoiler_text,
        "language": note.language,
        "sensitive": "on" if note.sensitive else "",
    }
    return await _render_compose(values, {}, note=note)


@bp.post("/notes/<int:note_id>/edit")
@security.login_required
async def edit(note_id: int) -> Any:
    note = await _own(note_id)
    form = await security.read_form()
    try:
        await notes.edit_local_note(
            security.runtime(), g.viewer, note, _draft(form, note.visibility)
        )
    except ValidationError as exc:
        return await _render_compose(
            form, {exc.field or "form": _(exc.public_message)}, 422, note=note
        )
    await flash(_("Your note is updated."))
    return redirect(note_path(note))


@bp.post("/notes/<int:note_id>/delete")
@security.login_required
async def delete(note_id: int) -> Any:
    note = await _own(note_id)
    root_id = note.root_id  # type: ignore[attr-defined]
    await notes.delete_local_note(security.runtime(), g.viewer, note)
    await flash(_("The note is deleted."))
    if root_id:
        root = await Note.get_or_none(id=root_id).prefetch_related("account")
        if root is not None:
            return redirect(note_path(root))
    return redirect(f"/@{g.viewer.username}")


# --- like, collect, comment -----------------------------------------------------------------


async def _back() -> str:
    return str((await security.read_form()).get("next", ""))


@bp.post("/notes/<int:note_id>/like")
@security.login_required
async def like(note_id: int) -> Any:
    note = await _note(note_id)
    await interactions.like_note(security.runtime(), g.viewer, note)
    return await action_done(note, await _back(), liked=True)


@bp.post("/notes/<int:note_id>/unlike")
@security.login_required
async def unlike(note_id: int) -> Any:
    note = await _note(note_id)
    await interactions.unlike_note(security.runtime(), g.viewer, note)
    return await action_done(note, await _back(), liked=False)


@bp.post("/notes/<int:note_id>/collect")
@security.login_required
async def collect(note_id: int) -> Any:
    note = await _note(note_id)
    await interactions.collect_note(g.viewer, note)
    return await action_done(note, await _back(), collected=True)


@bp.post("/notes/<int:note_id>/uncollect")
@security.login_required
async def uncollect(note_id: int) -> Any:
    note = await _note(note_id)
    await interactions.uncollect_note(g.viewer, note)
    return await action_done(note, await _back(), collected=False)


@bp.post("/notes/<int:note_id>/comment")
@security.login_required
async def comment(note_id: int) -> Any:
    note = await _note(note_id)
    form = await security.read_form()
    target = note
    reply_to = str(form.get("reply_to", ""))
    if reply_to.isdigit():
        target = await _note(int(reply_to))
        if (target.root_id or target.id) != note.id:  # type: ignore[attr-defined]
            raise NotFound()
    text = str(form.get("text", ""))
    try:
        await interactions.comment_on_note(security.runtime(), g.viewer, target, text)
    except ValidationError as exc:
        return await render_note(note, {exc.field or "text": _(exc.public_message)}, 422, text)
    return redirect(note_path(note) + "#comments")
