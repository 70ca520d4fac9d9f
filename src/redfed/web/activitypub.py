"""AS2 documents served to other servers: actors, their collections, notes (content-negotiated:
browsers go to the HTML pages) and the instance actor. Nothing non-public is ever listed (PRIV-02).
"""

from __future__ import annotations

import json
from typing import Any

from quart import Blueprint, Response, current_app, redirect, request
from werkzeug.wrappers.response import Response as WerkzeugResponse

from redfed.activitypub import render, uris
from redfed.activitypub.vocab import AP_CONTENT_TYPE, AP_MIME_TYPES
from redfed.errors import NotFound
from redfed.models import Account, FollowState, MediaAttachment, Note, Tombstone, Visibility
from redfed.runtime import Runtime
from redfed.services.delivery import ensure_instance_actor
from redfed.services.fanout import note_document

bp = Blueprint("activitypub", __name__)

PAGE_SIZE = 20
LISTED = (Visibility.PUBLIC, Visibility.UNLISTED)


def _runtime() -> Runtime:
    runtime: Runtime = current_app.config["REDFED_RUNTIME"]
    return runtime


def wants_activitypub() -> bool:
    """AS2 when the client asks for it at least as much as for HTML (Mastodon's rule).
    Parameters such as ld+json's `profile` are ignored when comparing."""
    as2_q = html_q = 0.0
    for value, quality in request.accept_mimetypes:
        mime = value.split(";", 1)[0].strip().lower()
        if mime in AP_MIME_TYPES:
            as2_q = max(as2_q, quality)
        elif mime in ("text/html", "text/*", "*/*"):
            html_q = max(html_q, quality if mime == "text/html" else quality * 0.99)
    return as2_q > 0 and as2_q >= html_q


def as2(doc: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    response = Response(body, status=status, content_type=AP_CONTENT_TYPE)
    response.headers["Vary"] = "Accept"
    return response


async def _local_account(name: str) -> Account:
    account = await Account.get_or_none(username=name.lower(), domain=None)
    if account is None or account.suspended_at is not None:
        raise NotFound(detail=f"no local account {name[:64]!r}")
    return account


def _html_redirect(url: str) -> WerkzeugResponse:
    response = redirect(url, 303)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/users/<name>")
async def actor(name: str) -> Response | WerkzeugResponse:
    account = await _local_account(name)
    if not wants_activitypub():
        return _html_redirect(
            account.url or uris.profile_url(_runtime().base_url, account.username)
        )
    if account.gone_at is not None:
        return as2(render.with_context({"id": account.uri, "type": "Tombstone"}), 410)
    avatar = (
        await MediaAttachment.get_or_none(id=account.avatar_media_id)
        if account.avatar_media_id
        else None
    )
    header = (
        await MediaAttachment.get_or_none(id=account.header_media_id)
        if account.header_media_id
        else None
    )
    return as2(
        render.render_actor(account, base_url=_runtime().base_url, avatar=avatar, header=header)
    )


@bp.get("/actor")
async def instance_actor() -> Response:
    account = await ensure_instance_actor(_runtime().settings)
    return as2(render.render_instance_actor(account, base_url=_runtime().base_url))


def _max_id() -> int | None:
    raw = request.args.get("max_id", "")
    return int(raw) if raw.isdigit() and len(raw) < 20 else None


def _paged() -> bool:
    return "page" in request.args or "max_id" in request.args


@bp.get("/users/<name>/outbox")
async def outbox(name: str) -> Response:
    account = await _local_account(name)
    collection = account.outbox_uri or uris.outbox_uri(account.uri)
    notes = Note.filter(account_id=account.id, visibility__in=LISTED, local=True)
    if not _paged():
        return as2(
            render.render_collection(
                collection, total=await notes.count(), first=f"{collection}?page=true"
            )
        )
    max_id = _max_id()
    if max_id is not None:
        notes = notes.filter(id__lt=max_id)
    page = list(await notes.order_by("-id").limit(PAGE_SIZE))
    items = [
        render.render_create((await note_document(_runtime().base_url, n, account))[0])
        for n in page
    ]
    return as2(_page(collection, items, page))


def _page(
    collection: str, items: list[Any], rows: list[Any], *, total: int | None = None
) -> dict[str, Any]:
    max_id = _max_id()
    page_id = f"{collection}?page=true" + (f"&max_id={max_id}" if max_id is not None else "")
    next_page = f"{collection}?page=true&max_id={rows[-1].id}" if len(rows) == PAGE_SIZE else None
    return render.render_collection_page(
        page_id, part_of=collection, items=items, next_page=next_page, total=total
    )


async def _people(collection: str, query: Any) -> Response:
    if not _paged():
        return as2(
            render.render_collection(
                collection, total=await query.count(), first=f"{collection}?page=true"
            )
        )
    max_id = _max_id()
    if max_id is not None:
        query = query.filter(id__lt=max_id)
    rows = list(await query.order_by("-id").limit(PAGE_SIZE))
    return as2(_page(collection, [row.uri for row in rows], rows))


@bp.get("/users/<name>/followers")
async def followers(name: str) -> Response:
    account = await _local_account(name)
    query = Account.filter(
        following__followee_id=account.id,
        following__state=FollowState.ACCEPTED,
        suspended_at__isnull=True,
    )
    return await _people(account.followers_uri or uris.followers_uri(account.uri), query)


@bp.get("/users/<name>/following")
async def following(name: str) -> Response:
    account = await _local_account(name)
    query = Account.filter(
        followers__follower_id=account.id,
        followers__state=FollowState.ACCEPTED,
        suspended_at__isnull=True,
    )
    return await _people(account.following_uri or uris.following_uri(account.uri), query)


@bp.get("/users/<name>/collections/featured")
async def featured(name: str) -> Response:
    # Pinned notes do not exist yet: an empty, valid collection (Mastodon fetches it on follow).
    account = await _local_account(name)
    collection = account.featured_uri or uris.featured_uri(account.uri)
    doc = render.with_context(
        {"id": collection, "type": "OrderedCollection", "totalItems": 0, "orderedItems": []}
    )
    return as2(doc)


async def _listed_note(name: str, note_id: int) -> tuple[Account, Note]:
    account = await _local_account(name)
    uri = uris.note_uri(account.uri, note_id)
    note = await Note.get_or_none(id=note_id, account_id=account.id, local=True)
    if note is None:
        if await Tombstone.exists(uri=uri):
            raise _Gone(uri)
        raise NotFound(detail="no such note")
    # Followers-only and direct notes are never served unsigned (a signed fetch by a permitted
    # viewer could later be allowed here).
    if note.visibility not in LISTED:
        raise NotFound(detail="note not public")
    return account, note


class _Gone(Exception):
    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.uri = uri


@bp.get("/users/<name>/notes/<int:note_id>")
async def note(name: str, note_id: int) -> Response | WerkzeugResponse:
    try:
        account, row = await _listed_note(name, note_id)
    except _Gone as gone:
        return as2(render.with_context({"id": gone.uri, "type": "Tombstone"}), 410)
    if not wants_activitypub():
        return _html_redirect(
            row.url or uris.note_url(_runtime().base_url, account.username, row.id)
        )
    doc, _ = await note_document(_runtime().base_url, row, account)
    return as2(doc)


@bp.get("/users/<name>/notes/<int:note_id>/activity")
async def note_activity(name: str, note_id: int) -> Response:
    try:
        account, row = await _listed_note(name, note_id)
    except _Gone as gone:
        return as2(render.with_context({"id": gone.uri, "type": "Tombstone"}), 410)
    doc, _ = await note_document(_runtime().base_url, row, account)
    return as2(render.render_create(doc))


@bp.get("/users/<name>/notes/<int:note_id>/replies")
async def replies(name: str, note_id: int) -> Response:
    try:
        _account, row = await _listed_note(name, note_id)
    except _Gone as gone:
        return as2(render.with_context({"id": gone.uri, "type": "Tombstone"}), 410)
    collection = uris.replies_uri(row.uri)
    query = Note.filter(in_reply_to_id=row.id, visibility__in=LISTED)
    if not _paged():
        return as2(
            render.render_collection(
                collection, total=await query.count(), first=f"{collection}?page=true"
            )
        )
    max_id = _max_id()
    if max_id is not None:
        query = query.filter(id__lt=max_id)
    rows = list(await query.order_by("-id").limit(PAGE_SIZE))
    return as2(_page(collection, [r.uri for r in rows], rows))
