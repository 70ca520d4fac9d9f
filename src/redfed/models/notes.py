"""Notes (posts and comments alike), their edit history, hashtags and mentions."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from redfed.models.base import SnowflakeModel


class Visibility(StrEnum):
    PUBLIC = "public"  # listed everywhere, federated to followers and the public collection
    UNLISTED = "unlisted"  # visible to anyone with the link, kept out of Explore and tags
    FOLLOWERS = "followers"  # followers only
    DIRECT = "direct"  # mentioned accounts only


class Note(SnowflakeModel):
    uri = fields.CharField(max_length=512, unique=True)
    url = fields.CharField(max_length=512, default="")
    account = fields.ForeignKeyField(
        "models.Account", related_name="notes", on_delete=fields.CASCADE
    )
    local = fields.BooleanField(default=True, db_index=True)

    title = fields.CharField(max_length=200, default="")
    content_html = fields.TextField(default="")  # sanitised HTML, safe to render
    text_source = fields.TextField(default="")  # the author's plain text (local notes, for editing)
    language = fields.CharField(max_length=16, default="")
    visibility = fields.CharEnumField(Visibility, default=Visibility.PUBLIC, max_length=16)
    sensitive = fields.BooleanField(default=False)
    spoiler_text = fields.CharField(max_length=500, default="")

    # Comments are notes replying to a note (or to another comment); `root` is the top note of
    # the thread so a thread page is one indexed query.
    in_reply_to = fields.ForeignKeyField(
        "models.Note", null=True, related_name="replies", on_delete=fields.SET_NULL
    )
    in_reply_to_uri = fields.CharField(max_length=512, default="")
    root = fields.ForeignKeyField(
        "models.Note", null=True, related_name=False, on_delete=fields.SET_NULL
    )

    published_at = fields.DatetimeField()
    edited_at = fields.DatetimeField(null=True)
    # Bumped on every edit of title/text/CW; translations are cached per version.
    text_version = fields.IntField(default=1)

    likes_count = fields.IntField(default=0)
    collects_count = fields.IntField(default=0)
    comments_count = fields.IntField(default=0)
    boosts_count = fields.IntField(default=0)
    # Decayed local engagement, maintained by the feed worker.
    engagement = fields.FloatField(default=0.0)

    class Meta:
        table = "notes"
        # root_id: a note page loads its whole comment thread by root (was a scan of notes).
        indexes = (
            ("visibility", "in_reply_to_id"),
            ("account_id", "visibility"),
            ("root_id", "id"),
            # Explore's popularity retrieval walks notes by engagement (was a sort of every
            # fresh note: 470 ms at 1M notes, bench/feed_latency.py).
            ("engagement", "id"),
            # A reply that arrived before its parent is linked when the parent comes
            # (UPDATE … WHERE in_reply_to_uri = ?): without this, a scan per remote note.
            ("in_reply_to_uri",),
        )

    @property
    def is_comment(self) -> bool:
        return self.in_reply_to_id is not None or bool(self.in_reply_to_uri)  # type: ignore[attr-defined]


class NoteEdit(SnowflakeModel):
    """A previous version of a note, kept when it is edited (shown as the edit history)."""

    note = fields.ForeignKeyField("models.Note", related_name="edits", on_delete=fields.CASCADE)
    title = fields.CharField(max_length=200, default="")
    content_html = fields.TextField(default="")
    spoiler_text = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "note_edits"


class Tag(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)  # normalised: NFKC + casefold

    class Meta:
        table = "tags"


class NoteTag(Model):
    id = fields.BigIntField(primary_key=True)
    note = fields.ForeignKeyField("models.Note", related_name="note_tags", on_delete=fields.CASCADE)
    tag = fields.ForeignKeyField("models.Tag", related_name="note_tags", on_delete=fields.CASCADE)

    class Meta:
        table = "note_tags"
        unique_together = (("note", "tag"),)
        indexes = (("tag_id", "note_id"),)


class Mention(Model):
    id = fields.BigIntField(primary_key=True)
    note = fields.ForeignKeyField("models.Note", related_name="mentions", on_delete=fields.CASCADE)
    account = fields.ForeignKeyField(
        "models.Account", related_name="mentioned_in", on_delete=fields.CASCADE
    )

    class Meta:
        table = "mentions"
        unique_together = (("note", "account"),)


class Tombstone(Model):
    """A deleted object's URI, remembered so a late Create or Like cannot resurrect it (IDEM-03)."""

    id = fields.BigIntField(primary_key=True)
    uri = fields.CharField(max_length=512, unique=True)
    deleted_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "tombstones"
