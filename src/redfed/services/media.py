"""Uploaded photos on disk: process untrusted bytes off the event loop, store them under
generated names inside the media root (MED-01), and remove them again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redfed.config import Settings
from redfed.errors import ValidationError

if TYPE_CHECKING:
    from redfed.services.media_processing import ProcessedImage

log = logging.getLogger(__name__)

MAX_ALT_TEXT = 1500
_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class PhotoUpload:
    """One uploaded file as the web layer received it. `filename` is never used for storage."""

    data: bytes
    filename: str = ""
    description: str = ""


@dataclass(frozen=True)
class StoredPhoto:
    file_key: str
    image: ProcessedImage
    description: str
    size_bytes: int

    def file_columns(self) -> dict[str, Any]:
        """The MediaAttachment columns that describe the stored files (one place for notes,
        profile images and cached remote media)."""
        image = self.image
        return {
            "file_key": self.file_key,
            "display_mime": image.display_mime,
            "thumb_mime": image.thumb_mime,
            "width": image.width,
            "height": image.height,
            "thumb_width": image.thumb_width,
            "thumb_height": image.thumb_height,
            "blurhash": image.blurhash,
            "size_bytes": self.size_bytes,
        }


def is_media_key(key: str) -> bool:
    return bool(_KEY_RE.match(key))


def media_path(settings: Settings, key: str, *, thumb: bool = False) -> Path:
    """Where a stored file lives. Only generated keys are accepted, so no path escapes the root."""
    if not is_media_key(key):
        raise ValueError("not a media key")
    return settings.media_dir / key[:2] / (f"{key}.thumb" if thumb else key)


def check_uploads(settings: Settings, uploads: Sequence[PhotoUpload]) -> None:
    """Count, size and alt-text limits, checked before any work is done."""
    limit = settings.media.max_photos
    if len(uploads) > limit:
        raise ValidationError(f"At most {limit} photos per note.", field="photos")
    for upload in uploads:
        if not upload.data:
            raise ValidationError("An uploaded file is empty.", field="photos")
        if len(upload.data) > settings.media.max_upload_bytes:
            mb = settings.media.max_upload_bytes // (1024 * 1024)
            raise ValidationError(f"Each photo must be at most {mb} MB.", field="photos")
        if len(upload.description) > MAX_ALT_TEXT:
            raise ValidationError(
                f"Alt text must be at most {MAX_ALT_TEXT} characters.", field="photos"
            )


async def store_photos(settings: Settings, uploads: Sequence[PhotoUpload]) -> list[StoredPhoto]:
    """Process and write every photo, or none: on a bad file the ones written are removed."""
    check_uploads(settings, uploads)
    stored: list[StoredPhoto] = []
    try:
        for upload in uploads:
            stored.append(await _store_one(settings, upload))
    except BaseException:
        await delete_media_files(settings, [s.file_key for s in stored])
        raise
    return stored


async def _store_one(settings: Settings, upload: PhotoUpload) -> StoredPhoto:
    # Pillow and blurhash load on the first upload: ~3.5 MB that an idle server need not hold.
    from redfed.services.media_processing import process_image  # noqa: PLC0415

    image = await asyncio.to_thread(
        process_image, upload.data, max_pixels=settings.media.max_pixels
    )
    key = secrets.token_hex(16)
    display = media_path(settings, key)
    await asyncio.to_thread(_write, display, image.display)
    await asyncio.to_thread(_write, media_path(settings, key, thumb=True), image.thumbnail)
    log.info(
        "media.stored key=%s format=%s bytes=%d", key, image.original_format, len(image.display)
    )
    return StoredPhoto(
        file_key=key,
        image=image,
        description=upload.description.strip(),
        size_bytes=len(image.display),
    )


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


async def delete_media_files(settings: Settings, keys: Iterable[str]) -> None:
    """Remove the files of these keys (display and thumbnail); missing files are fine."""
    for key in keys:
        if not is_media_key(key):
            continue
        for thumb in (False, True):
            await asyncio.to_thread(media_path(settings, key, thumb=thumb).unlink, missing_ok=True)
