"""Likes, collects (private bookmarks), boosts, follows, blocks, mutes and notifications."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from redfed.models.base import SnowflakeModel


class Like(SnowflakeModel):
    account = fields.ForeignKeyField(
        "models.Account", related_name="likes", on_delete=fields.CASCADE
    )
    note = fields.ForeignKeyField("models.Note", related_name="likes", on_delete=fields.CASCADE)
    uri = fields.CharField(max_length=512, null=True, unique=True)  # the Like activity id
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "likes"
        unique_together = (("account", "note"),)


class Collect(SnowflakeModel):
    """A private bookmark ("collect" in RedNote's words). Never federated."""

    account = fields.ForeignKeyField(
        "models.Account", related_name="collects", on_delete=fields.CASCADE
    )
    note = fields.ForeignKeyField("models.Note", related_name="collects", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "collects"
        unique_together = (("account", "note"),)


class Boost(SnowflakeModel):
    """An Announce of a public note (received from remote servers)."""

    account = fields.ForeignKeyField(
        "models.Account", related_name="boosts", on_delete=fields.CASCADE
    )
    note = fields.ForeignKeyField("models.Note", related_name="boosts", on_delete=fields.CASCADE)
    uri = fields.CharField(max_length=512, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "boosts"
        unique_together = (("account", "note"),)


class FollowState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"


class Follow(SnowflakeModel):
    follower = fields.ForeignKeyField(
        "models.Account", related_name="following", on_delete=fields.CASCADE
    )
    followee = fields.ForeignKeyField(
        "models.Account", related_name="followers", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(FollowState, default=FollowState.PENDING, max_length=16)
    uri = fields.CharField(max_length=512, null=True, unique=True)  # the Follow activity id
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "follows"
        unique_together = (("follower", "followee"),)
        indexes = (("followee_id", "state"),)


class Block(SnowflakeModel):
    account = fields.ForeignKeyField(
        "models.Account", related_name="blocks", on_delete=fields.CASCADE
    )
    target = fields.ForeignKeyField(
        "models.Account", related_name="blocked_by", on_delete=fields.CASCADE
    )
    uri = fields.CharField(max_length=512, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "blocks"
        unique_together = (("account", "target"),)


class Mute(SnowflakeModel):
    account = fields.ForeignKeyField(
        "models.Account", related_name="mutes", on_delete=fields.CASCADE
    )
    target = fields.ForeignKeyField(
        "models.Account", related_name="muted_by", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mutes"
        unique_together = (("account", "target"),)


class NotificationKind(StrEnum):
    LIKE = "like"
    COMMENT = "comment"
    FOLLOW = "follow"
    FOLLOW_REQUEST = "follow_request"
    MENTION = "mention"
    BOOST = "boost"


class Notification(SnowflakeModel):
    recipient = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NotificationKind, max_length=24)
    actor = fields.ForeignKeyField("models.Account", related_name=False, on_delete=fields.CASCADE)
    note = fields.ForeignKeyField(
        "models.Note", null=True, related_name=False, on_delete=fields.CASCADE
    )
    read = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notifications"
        indexes = (("recipient_id", "read"),)
