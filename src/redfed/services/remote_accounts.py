"""Remote actors: fetch, refresh and store them (by URI or by handle via WebFinger); their keys.

Every fetch is a GET signed by the instance actor when it exists (servers in authorized-fetch
mode refuse unsigned ones). A key is trusted only if its owner's actor document lists it (SIG-15).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from redfed.activitypub.normalize import (
    InvalidActivity,
    check_document,
    first_type,
    host_of,
    same_host,
)
from redfed.activitypub.parse import ParsedActor, parse_actor, parse_key_document
from redfed.activitypub.uris import key_id as local_key_id
from redfed.activitypub.vocab import ACTOR_TYPES
from redfed.errors import NotFound
from redfed.federation.addresses import FetchError
from redfed.federation.handles import parse_handle
from redfed.federation.http import Gone
from redfed.federation.signatures import RequestSigner, make_request_signer
from redfed.federation.webfinger_client import resolve_handle
from redfed.models import Account, DomainSeverity
from redfed.runtime import Runtime
from redfed.services.delivery import ensure_instance_actor
from redfed.services.moderation import domain_block_for, is_suspended_domain
from redfed.services.remote_media import follow_remote_avatar

log = logging.getLogger(__name__)


class ActorUnavailable(NotFound):
    public_message = "That account could not be found."


async def fetch_signer(rt: Runtime) -> RequestSigner:
    """The instance actor's signer for GETs (created with its key on first use)."""
    cached = rt.state.get("remote_accounts.signer")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    actor = await ensure_instance_actor(rt.settings)
    assert actor.private_key_pem is not None
    signer = make_request_signer(
        actor.public_key_id or local_key_id(actor.uri), actor.private_key_pem
    )
    rt.state["remote_accounts.signer"] = signer
    return signer


async def fetch_document(rt: Runtime, uri: str) -> dict[str, Any]:
    """A signed GET of an AS2 document, checked for id == URL (ORI-04) and JSON-LD tricks."""
    doc = await rt.require_http().fetch_activitypub(uri, signer=await fetch_signer(rt))
    check_document(doc)
    return doc


async def get_or_fetch_actor(rt: Runtime, uri: str, *, refresh: bool = False) -> Account:
    """The stored actor, fetching it when unknown (or when `refresh`)."""
    if not refresh:
        known = await Account.get_or_none(uri=uri)
        if known is not None:
            return known
    return await fetch_remote_actor(rt, uri)


async def fetch_remote_actor(rt: Runtime, uri: str) -> Account:
    if await is_suspended_domain(host_of(uri)):
        raise ActorUnavailable(detail=f"{uri} is on a suspended domain")
    try:
        doc = await fetch_document(rt, uri)
    except Gone:
        await mark_actor_gone(uri)
        raise
    parsed = parse_actor(doc)
    if parsed.key_owner != parsed.uri or (
        parsed.key_id and not same_host(parsed.key_id, parsed.uri)
    ):
        raise InvalidActivity(detail=f"actor {uri} publishes a key it does not own")
    return await upsert_remote_actor(parsed)


async def fetch_actor_by_handle(rt: Runtime, handle: str) -> Account:
    """`@user@host` -> the stored actor (WebFinger, then the actor document)."""
    parsed = parse_handle(handle)
    known = await Account.filter(domain=parsed.host, username__iexact=parsed.username).first()
    if known is not None and known.fetched_at is not None:
        return known
    scheme = (
        "http"
        if rt.settings.federation.allow_private_addresses and _is_loopback(parsed.host)
        else "https"
    )
    # resolve_handle confirms split-domain answers with the subject's own domain (ORI-05).
    uri = await resolve_handle(rt.require_http(), handle, scheme=scheme)
    return await get_or_fetch_actor(rt, uri, refresh=True)


def _is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in ("localhost", "127.0.0.1") or name.startswith("127.")


async def upsert_remote_actor(parsed: ParsedActor, *, keep_key: bool = False) -> Account:
    """Insert or update the actor row for `parsed` (never a local account)."""
    domain = host_of(parsed.uri)
    values: dict[str, Any] = {
        "display_name": parsed.display_name,
        "summary_html": parsed.summary_html,
        "actor_type": parsed.type,
        "url": parsed.url or parsed.uri,
        "inbox_uri": parsed.inbox,
        "shared_inbox_uri": parsed.shared_inbox,
        "outbox_uri": parsed.outbox,
        "followers_uri": parsed.followers,
        "following_uri": parsed.following,
        "featured_uri": parsed.featured,
        "locked": parsed.locked,
        "discoverable": parsed.discoverable,
        "indexable": parsed.indexable,
        "avatar_remote_url": parsed.avatar_url,
        "header_remote_url": parsed.header_url,
        "moved_to_uri": parsed.moved_to,
        "fetched_at": datetime.now(UTC),
        "gone_at": None,
    }
    if not keep_key:
        values.update(public_key_id=parsed.key_id, public_key_pem=parsed.public_key_pem)
    async with in_transaction():
        account = await Account.select_for_update().get_or_none(uri=parsed.uri)
        if account is not None:
            if account.is_local:
                raise InvalidActivity(detail="a remote document names a local actor")
            previous_avatar = account.avatar_remote_url
            await Account.filter(id=account.id).update(**values)
            await account.refresh_from_db()
        else:
            previous_avatar = ""
            account = await _create_actor(parsed, domain, values)
        await follow_remote_avatar(account, previous_avatar)
        return account


async def _create_actor(parsed: ParsedActor, domain: str, values: dict[str, Any]) -> Account:
    # A silenced domain's flag is set on its accounts when it is blocked; one first seen
    # later (say on a subdomain) gets it here, or listings would show it.
    block = await domain_block_for(domain)
    if block is not None and block.severity == DomainSeverity.SILENCE:
        values = {**values, "silenced": True}
    username = parsed.username
    for attempt in range(3):
        taken = await Account.filter(domain=domain, username=username).exists()
        if not taken:
            try:
                return await Account.create(
                    username=username, domain=domain, uri=parsed.uri, **values
                )
            except IntegrityError:
                pass
        # The name belongs to an older actor on that host (re-created account): keep both.
        username = f"{parsed.username[:50]}~{attempt + 1}"
    raise InvalidActivity(detail=f"cannot store actor {parsed.uri}")


async def mark_actor_gone(uri: str) -> None:
    await Account.filter(uri=uri, domain__not_isnull=True).update(gone_at=datetime.now(UTC))
    log.info("actor.gone uri=%s", uri)


async def fetch_key_owner(rt: Runtime, key_id: str) -> Account:
    """Fetch `key_id` and return its owner, stored with that key (SIG-15 ownership rules).

    Mastodon's keyId (`actor#main-key`) answers with the actor; GoToSocial's (`…/main-key`)
    with a key document naming its owner, whose own document must list the same key.
    """
    if await is_suspended_domain(host_of(key_id)):
        raise ActorUnavailable(detail=f"key {key_id} is on a suspended domain")
    try:
        doc = await fetch_document(rt, key_id)
    except Gone:
        await Account.filter(public_key_id=key_id, domain__not_isnull=True).update(
            gone_at=datetime.now(UTC)
        )
        raise
    if first_type(doc) in ACTOR_TYPES:
        actor_doc = doc
    else:
        _kid, _pem, owner = parse_key_document(doc)
        if not same_host(owner, key_id):
            raise InvalidActivity(detail=f"key {key_id} claims an owner on another host")
        actor_doc = await fetch_document(rt, owner)
    parsed = parse_actor(actor_doc)
    if (
        parsed.key_id != key_id
        or parsed.key_owner != parsed.uri
        or not same_host(parsed.uri, key_id)
    ):
        raise InvalidActivity(detail=f"the owner of {key_id} does not list it")
    return await upsert_remote_actor(parsed)


__all__ = [
    "ActorUnavailable",
    "FetchError",
    "fetch_actor_by_handle",
    "fetch_document",
    "fetch_key_owner",
    "fetch_remote_actor",
    "fetch_signer",
    "get_or_fetch_actor",
    "mark_actor_gone",
    "upsert_remote_actor",
]
