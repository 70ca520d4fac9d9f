"""Photos attached to notes, and avatars/headers.

Files live under the media root by generated name."""

from __future__ import annotations

from tortoise import fields

from redfed.models.base import SnowflakeModel


class MediaAttachment(SnowflakeModel):
    account = fields.ForeignKeyField(
        "models.Account", related_name="media", on_delete=fields.CASCADE
    )
    note = fields.ForeignKeyField(
        "models.Note", null=True, related_name="media", on_delete=fields.CASCADE
    )
    position = fields.IntField(default=0)
    description = fields.CharField(max_length=1500, default="")  # alt text

    # Generated storage names (never the uploader's file name: MED-01); "" until processed.
    file_key = fields.CharField(max_length=64, default="")
    display_mime = fields.CharField(max_length=64, default="")
    thumb_mime = fields.CharField(max_length=64, default="")
    width = fields.IntField(default=0)
    height = fields.IntField(default=0)
    thumb_width = fields.IntField(default=0)
    thumb_height = fields.IntField(default=0)
    blurhash = fields.CharField(max_length=64, default="")
    size_bytes = fields.IntField(default=0)

    remote_url = fields.CharField(max_length=1024, default="")  # for remote media: the original
    remote_mime = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "media_attachments"
        # Every grid and note page loads photos by note: without it, a scan of all media.
        indexes = (("note_id", "position"),)

    @property
    def is_cached(self) -> bool:
        return bool(self.file_key)
