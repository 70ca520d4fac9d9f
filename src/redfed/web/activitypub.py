"""AS2 documents served to other servers: actors, their collections, notes (content-negotiated:
browsers go to the HTML pages) and the instance actor.

Unsigned GETs see public and unlisted notes only (PRIV-02). A GET signed by a remote actor
(authorized fetch, as Mastodon and GoToSocial do it) sees what that actor may see by the rules
of services/visibility.py: a followers-only note when the signer itself is an accepted
follower of the author, a direct note when the signer is mentioned. Like Mastodon's
StatusPolicy we decide by the signing account alone — another account on the signer's server
following the author does not count (that server learns of such notes by delivery, addressed
to its followers). A signer the owner blocks, or on a suspended domain, gets 404 where an
anonymous reader would get the document (PRIV-09). Refusals are 404, never 403 (PRIV-07).
Responses that depend on the signer say `Vary: Signature` and `Cache-Control: private`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from quart import Blueprint, Response, current_app, redirect, request
from werkzeug.wrappers.response import Response as WerkzeugResponse

from redfed.activitypub import render, uris
from redfed.activitypub.vocab import AP_CONTENT_TYPE, AP_MIME_TYPES
from redfed.errors import NotFound
from redfed.federation.signatures import SignatureError
from redfed.models import Account, FollowState, Note, Tombstone, Visibility
from redfed.runtime import Runtime
from redfed.services import profiles
from redfed.services.delivery import ensure_instance_actor
from redfed.services.outgoing import note_document
from redfed.services.signature_auth import fetching_actor
from redfed.services.visibility import account_hidden, can_view, visible_notes_query

log = logging.getLogger(__name__)

bp = Blueprint("activitypub", __name__)

PAGE_SIZE = 20
LISTED = (Visibility.PUBLIC, Visibility.UNLISTED)
# A signature changes the answer: shared caches must key on it (RFC 9421 sends Signature-Input).
SIGNED_VARY = "Accept, Signature, Signature-Input"
# What an actor document keeps for a reader who may not see the profile: enough to verify
# the actor's signatures (Mastodon serves the same fields to unsigned key fetches).
KEY_ONLY_FIELDS = ("@context", "id", "type", "preferredUsername", "inbox", "endpoints", "publicKey")


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


def as2_for(requester: Account | None, doc: dict[str, Any], status: int = 200) -> Response:
    """`as2` for a route whose answer depends on who signed the request."""
    response = as2(doc, status)
    if requester is not None:
        response.headers["Cache-Control"] = "private"
    return response


@bp.after_request
async def vary_on_signature(response: Response) -> Response:
    """Every answer here may depend on the signature, its 404s and 401s included: a shared
    cache must not hand one reader's answer to another."""
    for header in SIGNED_VARY.split(", "):
        response.vary.add(header)
    return response


def _authorized_fetch() -> bool:
    return _runtime().settings.federation.authorized_fetch


async def _requester(*, required: bool = True) -> Account | None:
    """The remote actor who signed this GET, None for an unsigned one.

    A signature that does not verify counts as none (public documents stay public, as on
    Mastodon without authorized fetch). With `federation.authorized_fetch`, a bad signature
    and no signature are 401 — unless not `required` (the actor document, whose key must stay
    readable even when we cannot check the reader's key). A suspended signer: NotFound."""
    raw_path = request.scope.get("raw_path") or request.path.encode()
    path, _, query = raw_path.decode("latin-1").partition("?")
    try:
        actor = await fetching_actor(
            _runtime(),
            request.method,
            path,
            query or request.query_string.decode("latin-1"),
            request.headers,  # type: ignore[arg-type]  # Headers keeps repeated fields
        )
    except SignatureError as exc:
        if required and _authorized_fetch():
            raise
        log.info("as2.bad_signature path=%s reason=%s", path[:200], exc)
        actor = None
    if actor is None and required and _authorized_fetch():
        raise SignatureError("Request not signed", detail="federation.authorized_fetch is on")
    return actor


async def _readable_account(name: str, requester: Account | None) -> Account:
    """The local account whose collections are asked for; NotFound for a blocked signer."""
    account = await _local_account(name)
    if requester is not None and await account_hidden(requester, account):
        raise NotFound(detail="blocked")
    return account


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
    requester = await _requester(required=False)
    if (requester is None and _authorized_fetch()) or (
        requester is not None and await account_hidden(requester, account)
    ):
        # The key stays readable: without it nobody could verify this actor's signatures,
        # including those of the Block a blocked server has to receive.
        doc = render.render_actor(account, base_url=_runtime().base_url)
        return as2_for(requester, {k: doc[k] for k in KEY_ONLY_FIELDS if k in doc})
    avatar = await profiles.profile_image(account, "avatar")
    header = await profiles.profile_image(account, "header")
    return as2_for(
        requester,
        render.render_actor(account, base_url=_runtime().base_url, avatar=avatar, header=header),
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
    requester = await _requester()
    account = await _readable_account(name, requester)
    collection = account.outbox_uri or uris.outbox_uri(account.uri)
    if requester is None:
        notes = Note.filter(account_id=account.id, visibility__in=LISTED, local=True)
    else:  # as Mastodon's outbox: also the notes this signer may see
        notes = (await visible_notes_query(requester)).filter(account_id=account.id, local=True)
    if not _paged():
        return as2_for(
            requester,
            render.render_collection(
                collection, total=await notes.count(), first=f"{collection}?page=true"
            ),
        )
    max_id = _max_id()
    if max_id is not None:
        notes = notes.filter(id__lt=max_id)
    page = list(await notes.order_by("-id").limit(PAGE_SIZE))
    items = [
        render.render_create((await note_document(_runtime().base_url, n, account))[0])
        for n in page
    ]
    return as2_for(requester, _page(collection, items, page))


def _page(
    collection: str, items: list[Any], rows: list[Any], *, total: int | None = None
) -> dict[str, Any]:
    max_id = _max_id()
    page_id = f"{collection}?page=true" + (f"&max_id={max_id}" if max_id is not None else "")
    next_page = f"{collection}?page=true&max_id={rows[-1].id}" if len(rows) == PAGE_SIZE else None
    return render.render_collection_page(
        page_id, part_of=collection, items=items, next_page=next_page, total=total
    )


async def _people(requester: Account | None, collection: str, query: Any) -> Response:
    if not _paged():
        return as2_for(
            requester,
            render.render_collection(
                collection, total=await query.count(), first=f"{collection}?page=true"
            ),
        )
    max_id = _max_id()
    if max_id is not None:
        query = query.filter(id__lt=max_id)
    rows = list(await query.order_by("-id").limit(PAGE_SIZE))
    return as2_for(requester, _page(collection, [row.uri for row in rows], rows))


@bp.get("/users/<name>/followers")
async def followers(name: str) -> Response:
    requester = await _requester()
    account = await _readable_account(name, requester)
    query = Account.filter(
        following__followee_id=account.id,
        following__state=FollowState.ACCEPTED,
        suspended_at__isnull=True,
    )
    return await _people(requester, account.followers_uri or uris.followers_uri(account.uri), query)


@bp.get("/users/<name>/following")
async def following(name: str) -> Response:
    requester = await _requester()
    account = await _readable_account(name, requester)
    query = Account.filter(
        followers__follower_id=account.id,
        followers__state=FollowState.ACCEPTED,
        suspended_at__isnull=True,
    )
    return await _people(requester, account.following_uri or uris.following_uri(account.uri), query)


@bp.get("/users/<name>/collections/featured")
async def featured(name: str) -> Response:
    # Pinned notes do not exist yet: an empty, valid collection (Mastodon fetches it on follow).
    requester = await _requester()
    account = await _readable_account(name, requester)
    collection = account.featured_uri or uris.featured_uri(account.uri)
    doc = render.with_context(
        {"id": collection, "type": "OrderedCollection", "totalItems": 0, "orderedItems": []}
    )
    return as2_for(requester, doc)


async def _readable_note(requester: Account | None, name: str, note_id: int) -> Note:
    """The local note if `requester` (None: unsigned) may read it; _Gone for a deleted one,
    NotFound otherwise — also when it exists but is not for this reader (PRIV-07)."""
    account = await _local_account(name)
    note = await Note.get_or_none(id=note_id, account_id=account.id, local=True)
    if note is None:
        uri = uris.note_uri(account.uri, note_id)
        if await Tombstone.exists(uri=uri):
            raise _Gone(uri)
        raise NotFound(detail="no such note")
    note.account = account  # can_view and note_document read the author: no second query
    # Unsigned: public and unlisted only, as before (one query fewer than can_view).
    readable = note.visibility in LISTED if requester is None else await can_view(requester, note)
    if not readable:
        raise NotFound(detail="note not readable")
    return note


class _Gone(Exception):
    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.uri = uri


@bp.get("/users/<name>/notes/<int:note_id>")
async def note(name: str, note_id: int) -> Response | WerkzeugResponse:
    as_json = wants_activitypub()
    # Browsers are sent to the HTML page, which applies the session's own viewer.
    requester = await _requester() if as_json else None
    try:
        row = await _readable_note(requester, name, note_id)
    except _Gone as gone:
        return as2_for(requester, render.with_context({"id": gone.uri, "type": "Tombstone"}), 410)
    account: Account = row.account
    if not as_json:
        return _html_redirect(
            row.url or uris.note_url(_runtime().base_url, account.username, row.id)
        )
    doc, _ = await note_document(_runtime().base_url, row, account)
    return as2_for(requester, doc)


@bp.get("/users/<name>/notes/<int:note_id>/activity")
async def note_activity(name: str, note_id: int) -> Response:
    requester = await _requester()
    try:
        row = await _readable_note(requester, name, note_id)
    except _Gone as gone:
        return as2_for(requester, render.with_context({"id": gone.uri, "type": "Tombstone"}), 410)
    doc, _ = await note_document(_runtime().base_url, row, row.account)
    return as2_for(requester, render.render_create(doc))


@bp.get("/users/<name>/notes/<int:note_id>/replies")
async def replies(name: str, note_id: int) -> Response:
    requester = await _requester()
    try:
        row = await _readable_note(requester, name, note_id)
    except _Gone as gone:
        return as2_for(requester, render.with_context({"id": gone.uri, "type": "Tombstone"}), 410)
    collection = uris.replies_uri(row.uri)
    # Only public and unlisted replies are listed, whoever asks: a reply's audience is its
    # own author's to decide, and a reader allowed the parent is not necessarily allowed them.
    query = Note.filter(in_reply_to_id=row.id, visibility__in=LISTED)
    if not _paged():
        return as2_for(
            requester,
            render.render_collection(
                collection, total=await query.count(), first=f"{collection}?page=true"
            ),
        )
    max_id = _max_id()
    if max_id is not None:
        query = query.filter(id__lt=max_id)
    rows = list(await query.order_by("-id").limit(PAGE_SIZE))
    return as2_for(requester, _page(collection, [r.uri for r in rows], rows))
