"""Resolving `@user@host` handles to actor URIs with WebFinger (RFC 7033).

A subject on another domain than asked is accepted only when that domain's own WebFinger
confirms it (Mastodon's round-trip check; CVE-2023-42451 mapped handles onto other domains).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from redfed.federation.addresses import FetchError
from redfed.federation.handles import Handle, InvalidHandle, parse_handle
from redfed.federation.http import SafeHttpClient, is_activitypub_content_type

logger = logging.getLogger(__name__)


class WebFingerError(FetchError):
    status = 404
    public_message = "That handle could not be resolved."


def webfinger_url(handle: Handle, *, scheme: str = "https") -> str:
    return f"{scheme}://{handle.host}/.well-known/webfinger?resource={quote(handle.resource)}"


async def resolve_handle(client: SafeHttpClient, handle: str, *, scheme: str = "https") -> str:
    """The actor URI of `handle`. `scheme` is "http" only in tests and development."""
    asked = parse_handle(handle)
    subject, actor_uri = await _lookup(client, asked, scheme)
    if subject.host == asked.host:
        if not subject.same_as(asked):
            raise WebFingerError(detail=f"{asked} answered for another user {subject}")
        return actor_uri
    # Split-domain setups (handle on example.com, server on social.example.com) are legitimate
    # only if the subject's own domain says the same thing about itself.
    try:
        confirmed, confirmed_uri = await _lookup(client, subject, scheme)
    except FetchError as exc:
        raise WebFingerError(detail=f"{asked}: subject {subject} unconfirmed: {exc}") from exc
    if not confirmed.same_as(subject) or confirmed_uri != actor_uri:
        logger.warning("webfinger.unconfirmed asked=%s subject=%s", asked, subject)
        raise WebFingerError(detail=f"{asked}: subject {subject} not confirmed by its domain")
    return actor_uri


async def _lookup(client: SafeHttpClient, handle: Handle, scheme: str) -> tuple[Handle, str]:
    jrd = await client.fetch_jrd(webfinger_url(handle, scheme=scheme))
    subject_text = jrd.get("subject")
    if not isinstance(subject_text, str):
        raise WebFingerError(detail=f"no subject in WebFinger answer for {handle}")
    try:
        subject = parse_handle(subject_text)
    except InvalidHandle as exc:
        raise WebFingerError(detail=f"bad WebFinger subject {subject_text[:100]!r}") from exc
    return subject, _self_link(jrd, handle)


def _self_link(jrd: dict[str, Any], handle: Handle) -> str:
    links = jrd.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        href, link_type = link.get("href"), link.get("type")
        if not isinstance(href, str) or not isinstance(link_type, str):
            continue
        if is_activitypub_content_type(link_type) and href.startswith(("https://", "http://")):
            return href
    raise WebFingerError(detail=f"no ActivityPub self link for {handle}")
