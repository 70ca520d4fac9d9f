"""Local logins, their sessions and invitations."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from redfed.models.base import SnowflakeModel


class User(SnowflakeModel):
    account: fields.OneToOneRelation = fields.OneToOneField(
        "models.Account", related_name="user", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254, null=True, unique=True)
    password_hash = fields.CharField(max_length=255)
    is_admin = fields.BooleanField(default=False)
    approved = fields.BooleanField(default=True)  # False while waiting in the approval queue
    disabled = fields.BooleanField(default=False)
    signup_reason = fields.TextField(default="")
    locale = fields.CharField(max_length=8, default="")  # UI language; "" = from Accept-Language
    auto_translate = fields.BooleanField(default=False)
    feed_mode = fields.CharField(max_length=16, default="interest")  # interest | chronological
    show_sensitive = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "users"


class Session(Model):
    # The cookie carries a random token; only its SHA-256 is stored, so a leaked database
    # does not hand out live sessions.
    token_hash = fields.CharField(max_length=64, primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="sessions", on_delete=fields.CASCADE)
    csrf_token = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    user_agent = fields.CharField(max_length=255, default="")

    class Meta:
        table = "sessions"


class Invite(SnowflakeModel):
    code = fields.CharField(max_length=64, unique=True)
    created_by = fields.ForeignKeyField(
        "models.User", related_name="invites", on_delete=fields.CASCADE
    )
    max_uses = fields.IntField(default=1)
    uses = fields.IntField(default=0)
    expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "invites"
