"""Translating a note for a viewer, cached once per (note, text version, target language).

A popular note is translated once: concurrent requests for the same key share one in-flight
translation, and the table's unique constraint settles races between processes. An edit bumps
`Note.text_version`, so older entries are never read again (they are purged on the next store).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from redfed.content.sanitize import plain_text, sanitize_html
from redfed.errors import NotFound, RedfedError, ServiceUnavailable
from redfed.models import Account, Note, TranslationCache, Visibility
from redfed.runtime import Runtime
from redfed.services.translation.detect import detect_language
from redfed.services.translation.engine import TranslationEngine, TranslationUnavailable
from redfed.services.translation.html_text import translate_html
from redfed.services.translation.languages import (
    TranslationNotConfigured,
    can_translate,
    get_engine,
    normalize_language,
)
from redfed.services.visibility import can_view

log = logging.getLogger(__name__)

PROVIDER = "Argos Translate"
# Like Mastodon: private notes are never sent through translation (nor cached for everyone).
TRANSLATABLE = frozenset({Visibility.PUBLIC, Visibility.UNLISTED})
_INFLIGHT = "translation.inflight"

Key = tuple[int, int, str]


@dataclass(frozen=True)
class NoteTranslation:
    title: str
    content_html: str  # sanitised again after translation (XSS-05)
    spoiler_text: str
    source_language: str
    target_language: str
    provider: str = PROVIDER


class TranslationFailed(ServiceUnavailable):
    public_message = "Translation failed. Try again later."


async def translate_note(
    rt: Runtime, note: Note, target: str, viewer: Account | None
) -> NoteTranslation:
    """The note translated into `target` for `viewer`: 404 if not visible or not configured."""
    await _check_visible(note, viewer)
    target_code = normalize_language(target)
    source = await _source_language(note)
    usable = target_code and source != target_code
    if not usable or not can_translate(rt.settings, source, target_code):
        raise TranslationNotConfigured(detail=f"translation.no_pair {source}->{target_code}")
    engine = get_engine(rt)
    cached = await cached_translation(note, target_code)
    if cached is not None:
        return cached
    key: Key = (note.id, note.text_version, target_code)
    inflight: dict[Key, asyncio.Future[NoteTranslation]] = rt.state.setdefault(_INFLIGHT, {})
    future = inflight.get(key)
    if future is None:
        future = asyncio.ensure_future(_translate_and_store(engine, note, source, target_code))
        inflight[key] = future
        future.add_done_callback(lambda _: inflight.pop(key, None))
    # Shielded: one viewer closing the page must not cancel the translation others wait for.
    return await asyncio.shield(future)


async def cached_translation(note: Note, target: str) -> NoteTranslation | None:
    row = await TranslationCache.get_or_none(
        note_id=note.id, text_version=note.text_version, target_language=target
    )
    return None if row is None else _from_row(row)


async def _check_visible(note: Note, viewer: Account | None) -> None:
    if note.visibility not in TRANSLATABLE or not await can_view(viewer, note):
        raise NotFound(detail=f"translation.not_visible note={note.id}")


async def _source_language(note: Note) -> str:
    """The author's (or contentMap's) language; detection only fills in a missing one."""
    source = normalize_language(note.language)
    if source:
        return source
    text = "\n".join(p for p in (note.title, plain_text(note.content_html)) if p)
    # lingua loads its models on first use (~0.1 s): off the event loop.
    detected = await asyncio.to_thread(detect_language, text)
    if not detected:
        raise TranslationNotConfigured(detail=f"translation.unknown_language note={note.id}")
    return detected


class _WithExtras:
    """Puts the title and content warning in the same engine batch as the body's text nodes."""

    def __init__(self, engine: TranslationEngine, extras: list[str]) -> None:
        self.engine = engine
        self.extras = extras
        self.extras_out: list[str] | None = None

    async def translate_texts(self, texts: list[str], source: str, target: str) -> list[str]:
        out = await self.engine.translate_texts([*self.extras, *texts], source, target)
        self.extras_out = out[: len(self.extras)]
        return out[len(self.extras) :]


async def _translate(
    engine: TranslationEngine, note: Note, source: str, target: str
) -> NoteTranslation:
    batch = _WithExtras(engine, [note.title, note.spoiler_text])
    content = await translate_html(batch, note.content_html, source, target)
    extras = batch.extras_out
    if extras is None:  # the body had no text to translate, so the batch never ran
        extras = await engine.translate_texts(batch.extras, source, target)
    return NoteTranslation(
        title=extras[0],
        content_html=sanitize_html(content),
        spoiler_text=extras[1],
        source_language=source,
        target_language=target,
    )


async def _translate_and_store(
    engine: TranslationEngine, note: Note, source: str, target: str
) -> NoteTranslation:
    try:
        result = await _translate(engine, note, source, target)
    except TranslationUnavailable as exc:  # the pair was removed meanwhile
        raise TranslationNotConfigured(detail=exc.detail) from exc
    except RedfedError:
        raise
    except Exception as exc:  # the engine (CTranslate2, argos) failing is a 503, not a 500
        log.exception("translation.failed note=%s pair=%s-%s", note.id, source, target)
        raise TranslationFailed(detail=f"translation.failed {type(exc).__name__}") from exc
    await _store(note, result)
    log.info(
        "translation.stored note=%s version=%d pair=%s-%s",
        note.id,
        note.text_version,
        source,
        target,
    )
    return result


async def _store(note: Note, result: NoteTranslation) -> None:
    try:
        async with in_transaction():
            await TranslationCache.create(
                note_id=note.id,
                text_version=note.text_version,
                source_language=result.source_language,
                target_language=result.target_language,
                title=result.title[:400],
                content_html=result.content_html,
                spoiler_text=result.spoiler_text[:1000],
            )
    except IntegrityError:
        pass  # another process stored the same key first; its row is as good as ours
    await TranslationCache.filter(note_id=note.id, text_version__lt=note.text_version).delete()


def _from_row(row: TranslationCache) -> NoteTranslation:
    return NoteTranslation(
        title=row.title,
        content_html=row.content_html,
        spoiler_text=row.spoiler_text,
        source_language=row.source_language,
        target_language=row.target_language,
    )


async def purge_stale(note: Note) -> int:
    """Drop cached translations of older versions of `note` (edits call this, or the next store)."""
    return await TranslationCache.filter(
        note_id=note.id, text_version__lt=note.text_version
    ).delete()
