"""Remote photos cached as our own files: fetched in a background job through the SSRF-safe
client, re-encoded by the upload pipeline (MED-02/03/05), skipped for reject_media domains."""

from __future__ import annotations

import logging

from redfed.activitypub.normalize import host_of
from redfed.errors import ValidationError
from redfed.federation.addresses import FetchError
from redfed.models import Account, MediaAttachment
from redfed.runtime import Runtime
from redfed.services.jobs import enqueue
from redfed.services.media import PhotoUpload, delete_media_files, store_photos
from redfed.services.moderation import rejects_media

log = logging.getLogger(__name__)


async def cache_remote_media(rt: Runtime, media_id: int) -> bool:
    """Fetch and store one remote attachment; True when cached. Permanent failures return False
    (the note keeps its link to the original); network failures raise FetchError for a retry."""
    media = await MediaAttachment.get_or_none(id=media_id)
    if media is None or media.is_cached or not media.remote_url:
        return False
    if await rejects_media(host_of(media.remote_url)):
        return False
    settings = rt.settings
    try:
        data, _content_type = await rt.require_http().fetch_media(
            media.remote_url, max_bytes=settings.media.remote_max_bytes
        )
    except FetchError as exc:
        if exc.status == 404:
            return False
        raise
    try:
        stored = (
            await store_photos(settings, [PhotoUpload(data=data, description=media.description)])
        )[0]
    except ValidationError as exc:
        log.info("media.remote_rejected id=%d reason=%s", media_id, exc.detail)
        return False
    await MediaAttachment.filter(id=media_id).update(**stored.file_columns())
    log.info("media.remote_cached id=%d", media_id)
    return True


async def fetch_remote_media_job(rt: Runtime, job: object) -> None:
    """The worker's `fetch_remote_media` handler."""
    payload = getattr(job, "payload", {})
    await cache_remote_media(rt, int(payload["media_id"]))


REMOVE_REMOTE_MEDIA = "remove_remote_media"


async def follow_remote_avatar(account: Account, previous_url: str) -> None:
    """Keep a remote actor's avatar as our own cached thumbnail, like remote photos: a new
    `icon` URL gets a media row and a background fetch; the row of the old one is removed
    (files included) by a job. Called in the transaction that stores the actor document."""
    url = account.avatar_remote_url
    if url == previous_url and (account.avatar_media_id is not None or not url):
        return
    old_media_id = account.avatar_media_id
    new_media_id = None
    if url:
        media = await MediaAttachment.create(account=account, note=None, remote_url=url)
        new_media_id = media.id
        if not await rejects_media(host_of(url)) and not await rejects_media(account.domain or ""):
            await enqueue(
                "fetch_remote_media", {"media_id": media.id}, unique_key=f"media:{media.id}"
            )
    await Account.filter(id=account.id).update(avatar_media_id=new_media_id)
    account.avatar_media_id = new_media_id
    if old_media_id is not None:
        await enqueue(
            REMOVE_REMOTE_MEDIA, {"media_id": old_media_id}, unique_key=f"rm-media:{old_media_id}"
        )


async def remove_remote_media_job(rt: Runtime, job: object) -> None:
    """The worker's `remove_remote_media` handler: a replaced remote avatar's row and files.
    Only a remote account's media outside any note, and never one still in use."""
    media_id = int(getattr(job, "payload", {})["media_id"])
    media = await MediaAttachment.get_or_none(
        id=media_id, note_id=None, account__domain__not_isnull=True
    )
    if media is None or await Account.filter(avatar_media_id=media_id).exists():
        return
    await media.delete()
    await delete_media_files(rt.settings, [media.file_key])
