"""Cached machine translations: one per (note, text version, target language)."""

from __future__ import annotations

from tortoise import fields

from redfed.models.base import SnowflakeModel


class TranslationCache(SnowflakeModel):
    note = fields.ForeignKeyField(
        "models.Note", related_name="translations", on_delete=fields.CASCADE
    )
    text_version = fields.IntField()
    source_language = fields.CharField(max_length=16)
    target_language = fields.CharField(max_length=16)
    title = fields.CharField(max_length=400, default="")
    content_html = fields.TextField(default="")  # sanitised again after translation (XSS-05)
    spoiler_text = fields.CharField(max_length=1000, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "translation_cache"
        unique_together = (("note", "text_version", "target_language"),)
