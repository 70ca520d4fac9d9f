"""Local notes and comments: create (with photos), edit (history kept), delete (tombstone).

Each change and its `federate` job land in one transaction (services/outbox.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from redfed.activitypub import uris
from redfed.content.compose import ComposedText, compose_note_html
from redfed.errors import NotFound, ValidationError
from redfed.ids import new_id
from redfed.models import (
    Account,
    MediaAttachment,
    Mention,
    Note,
    NoteEdit,
    NoteTag,
    NotificationKind,
    Tag,
    Tombstone,
    Visibility,
)
from redfed.runtime import Runtime
from redfed.services import outbox
from redfed.services.media import PhotoUpload, check_uploads, delete_media_files, store_photos
from redfed.services.notifications import notify
from redfed.services.translation.languages import language_for_new_note
from redfed.services.visibility import require_visible

log = logging.getLogger(__name__)

MAX_TITLE = 100
MAX_TEXT = 5000
MAX_SPOILER = 500
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_MENTION_CANDIDATE = re.compile(r"@([A-Za-z0-9_.-]+)(?:@([\w.-]+\.[\w-]+))?")


@dataclass(frozen=True)
class NoteDraft:
    """What the author typed; the same shape for create and edit."""

    title: str = ""
    text: str = ""
    visibility: Visibility = Visibility.PUBLIC
    language: str = ""
    spoiler_text: str = ""
    sensitive: bool = False


def note_uris(rt: Runtime, author: Account, note_id: int) -> tuple[str, str]:
    """(uri, url) of a local note."""
    actor = uris.actor_uri(rt.base_url, author.username)
    return uris.note_uri(actor, note_id), uris.note_url(rt.base_url, author.username, note_id)


def _validate(draft: NoteDraft, *, photos: int, comment: bool) -> NoteDraft:
    title, text = draft.title.strip(), draft.text.strip()
    if len(title) > MAX_TITLE:
        raise ValidationError(f"The title must be at most {MAX_TITLE} characters.", field="title")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"The text must be at most {MAX_TEXT} characters.", field="text")
    if len(draft.spoiler_text) > MAX_SPOILER:
        raise ValidationError(
            f"The content warning must be at most {MAX_SPOILER} characters.", field="spoiler_text"
        )
    if draft.language and not _LANGUAGE_RE.match(draft.language):
        raise ValidationError("Choose a language from the list.", field="language")
    if comment and not text:
        raise ValidationError("Write something to comment.", field="text")
    if not comment and not (title or text or photos):
        raise ValidationError("A note needs a title, some text or a photo.", field="text")
    try:
        visibility = Visibility(draft.visibility)
    except ValueError:
        raise ValidationError("Choose who can see this note.", field="visibility") from None
    return NoteDraft(
        title=title,
        text=text,
        visibility=visibility,
        language=draft.language,
        spoiler_text=draft.spoiler_text.strip(),
        sensitive=draft.sensitive or bool(draft.spoiler_text.strip()),
    )


async def _resolve_mentions(rt: Runtime, text: str) -> dict[tuple[str, str | None], Account]:
    """Accounts named by `@user` / `@user@domain` that this server already knows."""
    found: dict[tuple[str, str | None], Account] = {}
    own = rt.settings.instance.domain
    for match in _MENTION_CANDIDATE.finditer(text):
        user, domain = match.group(1).rstrip("."), (match.group(2) or "").lower() or None
        key = (user.lower(), domain)
        if key in found or len(found) >= 50:
            continue
        if domain is None or domain == own:
            account = await Account.get_or_none(username=user.lower(), domain=None)
        else:
            account = await Account.filter(username__iexact=user, domain__iexact=domain).first()
        if account is not None and account.suspended_at is None:
            found[key] = account
    return found


async def _compose(rt: Runtime, text: str) -> tuple[ComposedText, list[Account]]:
    known = await _resolve_mentions(rt, text)

    def resolver(user: str, domain: str | None) -> str | None:
        if domain == rt.settings.instance.domain:
            domain = None
        account = known.get((user.lower(), domain))
        if account is None:
            return None
        return account.url or uris.profile_url(rt.base_url, account.username)

    composed = compose_note_html(
        text, tag_url=lambda tag: uris.tag_url(rt.base_url, tag), mention_resolver=resolver
    )
    accounts = {a.id: a for a in known.values()}
    return composed, list(accounts.values())


async def _set_tags_and_mentions(note: Note, tags: list[str], mentioned: list[Account]) -> None:
    await NoteTag.filter(note_id=note.id).delete()
    for name in tags:
        tag, _ = await Tag.get_or_create(name=name)
        await NoteTag.create(note=note, tag=tag)
    await Mention.filter(note_id=note.id).delete()
    for account in mentioned:
        await Mention.create(note=note, account=account)


async def create_local_note(
    rt: Runtime,
    author: Account,
    draft: NoteDraft,
    photos: Sequence[PhotoUpload] = (),
    *,
    in_reply_to: Note | None = None,
) -> Note:
    """Validate, store photos, then write the note, tags, mentions, counters, notifications
    and its federate job in one transaction.

    Bad input raises ValidationError and changes nothing."""
    comment = in_reply_to is not None
    if comment and photos:
        raise ValidationError("Comments cannot have photos.", field="photos")
    draft = _validate(draft, photos=len(photos), comment=comment)
    check_uploads(rt.settings, photos)
    if in_reply_to is not None:
        await require_visible(author, in_reply_to)
    composed, mentioned = await _compose(rt, draft.text)
    stored = await store_photos(rt.settings, photos)
    try:
        async with in_transaction():
            note = await _insert_note(rt, author, draft, composed, mentioned, in_reply_to)
            for position, photo in enumerate(stored):
                await MediaAttachment.create(
                    account=author,
                    note=note,
                    position=position,
                    description=photo.description,
                    **photo.file_columns(),
                )
            await outbox.note_created(note)
    except BaseException:
        await delete_media_files(rt.settings, [p.file_key for p in stored])
        raise
    log.info("note.created id=%d account=%d photos=%d", note.id, author.id, len(stored))
    return note


def _default_language(author: Account, draft: NoteDraft, rt: Runtime) -> str:
    """The author's choice wins; a missing one is detected offline from the title and text,
    else the profile's first language, else the instance's default."""
    text = f"{draft.title}\n{draft.text}"
    chosen = language_for_new_note(text, draft.language, [str(c) for c in author.languages or []])
    return chosen or rt.settings.ui.default_language


async def _insert_note(
    rt: Runtime,
    author: Account,
    draft: NoteDraft,
    composed: ComposedText,
    mentioned: list[Account],
    parent: Note | None,
) -> Note:
    note_id = new_id()
    uri, url = note_uris(rt, author, note_id)
    visibility = draft.visibility
    root_id = None
    if parent is not None:
        root_id = parent.root_id or parent.id  # type: ignore[attr-defined]
        # A comment is never seen by more people than the note it answers.
        if parent.visibility in (Visibility.FOLLOWERS, Visibility.DIRECT):
            visibility = parent.visibility
        parent_author: Account = await parent.account
        if parent_author.id != author.id and all(a.id != parent_author.id for a in mentioned):
            mentioned = [*mentioned, parent_author]
    note = await Note.create(
        id=note_id,
        uri=uri,
        url=url,
        account=author,
        local=True,
        title=draft.title,
        content_html=composed.html,
        text_source=draft.text,
        language=_default_language(author, draft, rt),
        visibility=visibility,
        sensitive=draft.sensitive,
        spoiler_text=draft.spoiler_text,
        in_reply_to=parent,
        in_reply_to_uri=parent.uri if parent else "",
        root_id=root_id,
        published_at=datetime.now(UTC),
    )
    await _set_tags_and_mentions(note, composed.tags, mentioned)
    if parent is None:
        await Account.filter(id=author.id).update(notes_count=F("notes_count") + 1)
    else:
        await Note.filter(id__in={parent.id, root_id}).update(
            comments_count=F("comments_count") + 1
        )
        await notify(await parent.account, NotificationKind.COMMENT, author, note)
    parent_author_id = parent.account_id if parent else None  # type: ignore[attr-defined]
    for account in mentioned:
        if account.id != parent_author_id:
            await notify(account, NotificationKind.MENTION, author, note)
    return note


async def _own_note(author: Account, note: Note) -> None:
    # Someone else's note: NotFound when they cannot see it (PRIV-07), else still NotFound —
    # editing pages of other people's notes do not exist.
    if note.account_id != author.id:  # type: ignore[attr-defined]
        raise NotFound()


async def edit_local_note(rt: Runtime, author: Account, note: Note, draft: NoteDraft) -> Note:
    """Change title, text and content warning; the previous version goes to NoteEdit.
    Visibility cannot change after posting (followers would otherwise gain or lose access)."""
    await _own_note(author, note)
    photos = await MediaAttachment.filter(note_id=note.id).count()
    draft = _validate(
        NoteDraft(
            title=draft.title,
            text=draft.text,
            visibility=note.visibility,
            language=draft.language,
            spoiler_text=draft.spoiler_text,
            sensitive=draft.sensitive,
        ),
        photos=photos,
        comment=note.in_reply_to_id is not None,  # type: ignore[attr-defined]
    )
    composed, mentioned = await _compose(rt, draft.text)
    async with in_transaction():
        await NoteEdit.create(
            note=note,
            title=note.title,
            content_html=note.content_html,
            spoiler_text=note.spoiler_text,
        )
        note.title, note.text_source, note.content_html = draft.title, draft.text, composed.html
        note.spoiler_text, note.sensitive = draft.spoiler_text, draft.sensitive
        note.language = draft.language or note.language
        note.text_version += 1
        note.edited_at = datetime.now(UTC)
        await note.save()
        await _set_tags_and_mentions(note, composed.tags, mentioned)
        await outbox.note_updated(note)
    log.info("note.edited id=%d version=%d", note.id, note.text_version)
    return note


async def delete_local_note(rt: Runtime, author: Account, note: Note) -> None:
    """Delete a note: its Delete is enqueued first (addressed as the note was), the URI is
    tombstoned, counters fall, and its photo files are removed after the commit (MED-06)."""
    await _own_note(author, note)
    keys = [
        str(k)
        for k in await MediaAttachment.filter(note_id=note.id).values_list("file_key", flat=True)
    ]
    mentioned = await Mention.filter(note_id=note.id).values_list("account_id", flat=True)
    mentioned_ids = [int(i) for i in mentioned]  # type: ignore[call-overload]
    parent = await Note.get_or_none(id=note.in_reply_to_id) if note.in_reply_to_id else None  # type: ignore[attr-defined]
    async with in_transaction():
        await outbox.note_deleted(
            note,
            mentioned_ids=mentioned_ids,
            parent_author_id=parent.account_id if parent else None,  # type: ignore[attr-defined]
        )
        await Tombstone.create(uri=note.uri)
        if parent is None and note.in_reply_to_id is None:  # type: ignore[attr-defined]
            await Account.filter(id=author.id, notes_count__gt=0).update(
                notes_count=F("notes_count") - 1
            )
        else:
            ids = {i for i in (note.in_reply_to_id, note.root_id) if i}  # type: ignore[attr-defined]
            await Note.filter(id__in=ids, comments_count__gt=0).update(
                comments_count=F("comments_count") - 1
            )
        await note.delete()
    await delete_media_files(rt.settings, [k for k in keys if k])
    log.info("note.deleted id=%d", note.id)
