"""Instance-level moderation: blocked domains."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from redfed.models.base import SnowflakeModel


class DomainSeverity(StrEnum):
    SUSPEND = "suspend"  # refuse all traffic, remove its content
    SILENCE = "silence"  # keep out of public pages and Explore
    NOOP = "noop"  # only the media rule applies


class DomainBlock(SnowflakeModel):
    domain = fields.CharField(max_length=253, unique=True)
    severity = fields.CharEnumField(DomainSeverity, default=DomainSeverity.SUSPEND, max_length=16)
    reject_media = fields.BooleanField(default=False)
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "domain_blocks"
