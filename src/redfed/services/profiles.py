"""Profile edits of local accounts: name, bio, languages, interests, locked, UI language, and
avatar/header images. Changes that other servers show are federated (outbox.profile_updated).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from redfed.activitypub import uris
from redfed.config import Settings
from redfed.content.compose import compose_note_html
from redfed.errors import ValidationError
from redfed.models import Account, MediaAttachment, User
from redfed.services import media, outbox

log = logging.getLogger(__name__)

MAX_DISPLAY_NAME = 100
MAX_BIO = 1000
KNOWN_LANGUAGES = ("en", "zh", "ja", "ko", "fr", "de", "es", "it", "pt", "ru")


@dataclass(frozen=True)
class ProfileEdit:
    display_name: str
    bio: str
    languages: tuple[str, ...] = ()
    locked: bool = False


def _checked(edit: ProfileEdit) -> ProfileEdit:
    name = " ".join(edit.display_name.split())
    if len(name) > MAX_DISPLAY_NAME:
        raise ValidationError(
            f"The name may have at most {MAX_DISPLAY_NAME} characters.", field="display_name"
        )
    bio = edit.bio.strip()
    if len(bio) > MAX_BIO:
        raise ValidationError(f"The bio may have at most {MAX_BIO} characters.", field="bio")
    languages = tuple(dict.fromkeys(x for x in edit.languages if x in KNOWN_LANGUAGES))
    return ProfileEdit(name, bio, languages, edit.locked)


async def update_profile(settings: Settings, account: Account, edit: ProfileEdit) -> Account:
    """Apply a profile edit to a local account and federate it (Update(Person))."""
    edit = _checked(edit)
    base = settings.base_url
    bio_html = compose_note_html(
        edit.bio,
        tag_url=lambda tag: uris.tag_url(base, tag),
        mention_resolver=lambda user, domain: None,  # bios link no mentions (no lookups here)
    ).html
    account.display_name = edit.display_name
    account.summary_source = edit.bio
    account.summary_html = bio_html
    account.languages = list(edit.languages)
    account.locked = edit.locked
    async with in_transaction():
        await account.save(
            update_fields=[
                "display_name",
                "summary_source",
                "summary_html",
                "languages",
                "locked",
                "updated_at",
            ]
        )
        await outbox.profile_updated(account)
    log.info("profile.updated account_id=%s", account.id)
    return account


async def set_ui_locale(settings: Settings, user: User, locale: str) -> None:
    """ "" means: follow the browser's Accept-Language."""
    if locale and locale not in settings.ui.languages:
        raise ValidationError("This language is not available.", field="locale")
    user.locale = locale
    await user.save(update_fields=["locale"])


async def set_profile_image(settings: Settings, account: Account, kind: str, data: bytes) -> None:
    """Store a new avatar or header (processed like any photo) and federate the change."""
    if kind not in ("avatar", "header"):
        raise ValidationError("Unknown image kind.", field=kind)
    stored = (await media.store_photos(settings, [media.PhotoUpload(data=data)]))[0]
    old_id = account.avatar_media_id if kind == "avatar" else account.header_media_id
    async with in_transaction():
        attachment = await MediaAttachment.create(
            account=account,
            note=None,
            **stored.file_columns(),
        )
        setattr(account, f"{kind}_media_id", attachment.id)
        await account.save(update_fields=[f"{kind}_media_id", "updated_at"])
        await outbox.profile_updated(account)
    if old_id is not None:
        await _remove_image(settings, old_id)


async def _remove_image(settings: Settings, media_id: int) -> None:
    old = await MediaAttachment.get_or_none(id=media_id, note_id=None)
    if old is not None:
        await old.delete()
        await media.delete_media_files(settings, [old.file_key])


async def profile_image(account: Account, kind: str) -> MediaAttachment | None:
    media_id = account.avatar_media_id if kind == "avatar" else account.header_media_id
    return await MediaAttachment.get_or_none(id=media_id) if media_id else None


def clean_languages(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v in KNOWN_LANGUAGES))
