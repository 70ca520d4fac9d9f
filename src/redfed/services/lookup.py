"""Look up `@user@domain`, or a profile or note URL, for the search box: WebFinger and fetch.

A URL is only ever fetched as AS2 from its own origin, and what comes back must be what was
asked for (ORI-04); a stored `url` counts only on its id's host (ORI-13); local accounts and
notes are answered from the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redfed.activitypub.normalize import InvalidActivity, first_type, same_host
from redfed.activitypub.parse import NOTE_TYPES
from redfed.activitypub.vocab import ACTOR_TYPES
from redfed.errors import NotFound
from redfed.federation.addresses import FetchError
from redfed.federation.handles import InvalidHandle
from redfed.models import Account, Note
from redfed.runtime import Runtime
from redfed.services import remote_accounts, remote_notes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LookupResult:
    account: Account | None = None
    note: Note | None = None


async def lookup(rt: Runtime, query: str) -> LookupResult:
    """An account for a handle or profile URL, a note for a note URL; raises NotFound otherwise."""
    text = query.strip()
    try:
        if text.startswith(("https://", "http://")):
            return await _lookup_url(rt, text)
        if text.count("@") in (1, 2) and not text.endswith("@"):
            return LookupResult(account=await _lookup_handle(rt, text))
    except (FetchError, InvalidActivity, InvalidHandle) as exc:
        log.info("lookup.failed query=%s error=%s", text[:200], exc)
    raise NotFound("Nothing was found for that search.")


async def _lookup_handle(rt: Runtime, text: str) -> Account:
    name, _, host = text.removeprefix("@").partition("@")
    if host.lower() == rt.settings.instance.domain:
        local = await Account.get_or_none(username=name.lower(), domain=None, gone_at=None)
        if local is None:
            raise NotFound()
        return local
    return await remote_accounts.fetch_actor_by_handle(rt, text)


async def _by_display_link(model: type[Account] | type[Note], url: str) -> Any:
    """The stored row whose `url` is `url`, if its id lives on that URL's host. A remote `url`
    is only a display link, never identity (ORI-13): another server may claim any URL as the
    page of its own note or actor, and a search for that URL must not land on it."""
    for row in await model.filter(url=url).limit(8):
        if same_host(row.uri, url):
            return row
    return None


async def _lookup_url(rt: Runtime, url: str) -> LookupResult:
    account = await Account.filter(uri=url).first() or await _by_display_link(Account, url)
    if account is not None:
        return LookupResult(account=account)
    note = await Note.filter(uri=url).first() or await _by_display_link(Note, url)
    if note is not None:
        return LookupResult(note=note)
    if url.startswith(rt.settings.base_url + "/"):
        raise NotFound()
    doc = await remote_accounts.fetch_document(rt, url)
    kind = first_type(doc)
    if kind in ACTOR_TYPES:
        return LookupResult(account=await remote_accounts.fetch_remote_actor(rt, url))
    if kind in NOTE_TYPES and same_host(url, str(doc.get("id", ""))):
        found = await remote_notes.fetch_remote_note(rt, url)
        if found is not None:
            return LookupResult(note=found)
    raise NotFound()
