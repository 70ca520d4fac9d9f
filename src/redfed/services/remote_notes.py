"""Remote notes: store a parsed note (with tags, mentions, media) and fetch one from its origin.

An object embedded by a third party is never trusted: `fetch_remote_note` always asks the
object's own server (ORI-02). Reply chains are followed to a bounded depth (RES-06).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from redfed.activitypub.audience import visibility_from_audience
from redfed.activitypub.normalize import InvalidActivity, host_of, same_host
from redfed.activitypub.parse import ParsedNote, parse_note
from redfed.federation.addresses import FetchError
from redfed.models import (
    Account,
    MediaAttachment,
    Mention,
    Note,
    NoteTag,
    NotificationKind,
    Tag,
    Tombstone,
    Visibility,
)
from redfed.runtime import Runtime
from redfed.services import remote_accounts
from redfed.services.jobs import enqueue
from redfed.services.moderation import first_suspended, is_suspended_domain, rejects_media
from redfed.services.notifications import notify

log = logging.getLogger(__name__)

MAX_REPLY_DEPTH = 8  # parents fetched above a new reply (RES-06)


async def fetch_remote_note(
    rt: Runtime, uri: str, *, depth: int = 0, below: frozenset[str] = frozenset()
) -> Note | None:
    """The stored note `uri`, fetched from its origin when unknown; None if unusable.

    `below` holds the replies being stored under it: a parent met again is a reply cycle,
    not fetched a second time (RES-06)."""
    known = await Note.get_or_none(uri=uri)
    if known is not None:
        return known
    if (
        depth > MAX_REPLY_DEPTH
        or uri in below
        or await Tombstone.exists(uri=uri)
        or await is_suspended_domain(host_of(uri))
    ):
        return None
    try:
        doc = await remote_accounts.fetch_document(rt, uri)
        parsed = parse_note(doc)
        if not same_host(parsed.uri, parsed.attributed_to):
            raise InvalidActivity(detail=f"note {uri} attributed to another host")
        if await touches_suspended_domain(parsed):
            raise InvalidActivity(detail=f"note {uri} replies or is addressed to a blocked domain")
        author = await remote_accounts.get_or_fetch_actor(rt, parsed.attributed_to)
    except (FetchError, InvalidActivity) as exc:
        log.info("note.fetch_failed uri=%s error=%s", uri, exc)
        return None
    return await upsert_remote_note(rt, parsed, author, depth=depth, below=below)


async def touches_suspended_domain(parsed: ParsedNote, *addresses: str) -> bool:
    """Does the note reply to, or address, a suspended domain (PRIV-06, GoToSocial 469da93)?

    Every address counts (a blocked one hidden at the end of a long `cc` too): the hosts are
    few even when the addresses are many (at most MAX_ADDRESSES each), and the check is one
    look at the in-memory block table. `addresses` adds the activity's own to/cc."""
    uris = (parsed.in_reply_to, *parsed.to, *parsed.cc, *addresses)
    hosts = {host_of(u) for u in uris if u and not same_host(u, parsed.uri)}
    return await first_suspended(*sorted(hosts)) is not None


async def upsert_remote_note(
    rt: Runtime,
    parsed: ParsedNote,
    author: Account,
    *,
    depth: int = 0,
    below: frozenset[str] = frozenset(),
) -> Note | None:
    """Store a new remote note (an existing one is returned unchanged: IDEM-01, ORI-06)."""
    parent = None
    if parsed.in_reply_to and parsed.in_reply_to != parsed.uri:  # a self-reply has no parent
        # Before fetching parents over the network, make sure this note is wanted at all.
        known = await Note.get_or_none(uri=parsed.uri)
        if known is not None or await Tombstone.exists(uri=parsed.uri):
            return known  # None: deleted before it arrived (IDEM-03)
        parent = await _parent(rt, parsed.in_reply_to, depth, below | {parsed.uri})
    visibility = visibility_from_audience(parsed.to, parsed.cc, author.followers_uri)
    async with in_transaction():
        # Checked inside the transaction: a parallel job may have stored it, or a Delete come.
        [seen] = await _sql(
            'SELECT EXISTS(SELECT 1 FROM "notes" WHERE "uri"=?) AS "note",'
            ' EXISTS(SELECT 1 FROM "tombstones" WHERE "uri"=?) AS "gone"',
            parsed.uri,
            parsed.uri,
        )
        if seen["note"]:
            return await Note.get(uri=parsed.uri)
        if seen["gone"]:
            return None  # deleted before it arrived (IDEM-03)
        note = await Note.create(
            uri=parsed.uri,
            url=parsed.url or parsed.uri,
            account=author,
            local=False,
            title=parsed.title,
            content_html=parsed.content_html,
            language=parsed.language,
            visibility=Visibility(visibility),
            sensitive=parsed.sensitive or bool(parsed.summary),
            spoiler_text=parsed.summary,
            in_reply_to=parent,
            in_reply_to_uri=parsed.in_reply_to,
            root_id=_root_id(parent),
            published_at=parsed.published or datetime.now(UTC),
        )
        await _store_tags(note, parsed.hashtags)
        await _store_mentions(note, parsed, author)
        await _store_media(note, parsed, author)
        await _sql('UPDATE "accounts" SET "notes_count"="notes_count"+1 WHERE "id"=?', author.id)
        if parent is not None:
            await _count_reply(note, parent, author)
        # Replies that arrived before this note are linked now (IDEM-06), except this note's
        # own root: a chain that loops back (A -> B -> A, or a note replying to itself) ends at
        # a root whose parent is this note, and linking it would store the loop (RES-06).
        root = _root_id(note)
        await _sql(
            'UPDATE "notes" SET "in_reply_to_id"=?, "root_id"=?'
            ' WHERE "in_reply_to_uri"=? AND "in_reply_to_id" IS NULL AND "id"<>?',
            note.id,
            root,
            parsed.uri,
            root,
        )
    log.info("note.stored uri=%s visibility=%s", parsed.uri, visibility)
    return note


async def _sql(statement: str, *values: Any) -> list[dict[str, Any]]:
    """Plain SQL for the few statements every stored note runs: building them with the ORM cost
    more CPU than running them. `?` placeholders, numbered for PostgreSQL; runs in the current
    transaction (the model's connection is the transaction's inside one)."""
    db = Note._meta.db
    if db.capabilities.dialect == "postgres":
        head, *rest = statement.split("?")
        statement = head + "".join(f"${i}{part}" for i, part in enumerate(rest, 1))
    return await db.execute_query_dict(statement, list(values))


async def _parent(rt: Runtime, uri: str, depth: int, below: frozenset[str]) -> Note | None:
    known = await Note.get_or_none(uri=uri)
    if known is not None or depth >= MAX_REPLY_DEPTH:
        return known
    return await fetch_remote_note(rt, uri, depth=depth + 1, below=below)


def _root_id(parent: Note | None) -> int | None:
    if parent is None:
        return None
    return parent.root_id or parent.id  # type: ignore[attr-defined,no-any-return]


async def _count_reply(note: Note, parent: Note, author: Account) -> None:
    await Note.filter(id=parent.id).update(comments_count=F("comments_count") + 1)
    parent_author = await Account.get(id=parent.account_id)  # type: ignore[attr-defined]
    await notify(parent_author, NotificationKind.COMMENT, author, note)


async def _store_tags(note: Note, names: tuple[str, ...]) -> None:
    """Link the new note to its tags: a few statements whatever the number of tags."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return
    ids = dict(await Tag.filter(name__in=wanted).values_list("name", "id"))
    missing = [name for name in wanted if name not in ids]
    if missing:  # a parallel job may add the same tag: ignore its conflict, read both back
        await Tag.bulk_create([Tag(name=name) for name in missing], ignore_conflicts=True)
        ids.update(await Tag.filter(name__in=missing).values_list("name", "id"))
    await NoteTag.bulk_create([NoteTag(note_id=note.id, tag_id=ids[name]) for name in wanted])


async def _store_mentions(note: Note, parsed: ParsedNote, author: Account) -> None:
    """Mentions of known accounts that are also addressed (PRIV-03); never a fetch (RES-03)."""
    addressed = set(parsed.to) | set(parsed.cc)
    if note.visibility == Visibility.PUBLIC or note.visibility == Visibility.UNLISTED:
        wanted = set(parsed.mentions)
    else:
        wanted = addressed.intersection(parsed.mentions)
    if not wanted:
        return
    for account in await Account.filter(uri__in=sorted(wanted)):
        await Mention.get_or_create(note=note, account=account)
        await notify(account, NotificationKind.MENTION, author, note)


async def _store_media(note: Note, parsed: ParsedNote, author: Account) -> None:
    if not parsed.attachments:
        return
    fetch = not await rejects_media(host_of(parsed.uri))
    for position, item in enumerate(parsed.attachments):
        media = await MediaAttachment.create(
            account=author,
            note=note,
            position=position,
            description=item.description,
            remote_url=item.url,
            remote_mime=item.media_type,
            width=item.width,
            height=item.height,
            blurhash=item.blurhash,
        )
        if fetch:
            await enqueue(
                "fetch_remote_media", {"media_id": media.id}, unique_key=f"media:{media.id}"
            )
