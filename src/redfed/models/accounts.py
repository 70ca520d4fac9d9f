"""Accounts: every actor, local or remote. A local login is a User (models.users)."""

from __future__ import annotations

from tortoise import fields

from redfed.models.base import SnowflakeModel


class Account(SnowflakeModel):
    # `domain` is NULL for local accounts; (username, domain) is unique. Local usernames are
    # stored lower-cased; remote ones as the remote server spells them (matched case-insensitively).
    username = fields.CharField(max_length=64)
    domain = fields.CharField(max_length=253, null=True, db_index=True)
    display_name = fields.CharField(max_length=200, default="")
    summary_html = fields.TextField(default="")
    summary_source = fields.TextField(default="")
    actor_type = fields.CharField(max_length=32, default="Person")

    uri = fields.CharField(max_length=512, unique=True)
    url = fields.CharField(max_length=512, default="")
    inbox_uri = fields.CharField(max_length=512, default="")
    shared_inbox_uri = fields.CharField(max_length=512, default="")
    outbox_uri = fields.CharField(max_length=512, default="")
    followers_uri = fields.CharField(max_length=512, default="")
    following_uri = fields.CharField(max_length=512, default="")
    featured_uri = fields.CharField(max_length=512, default="")

    public_key_id = fields.CharField(max_length=512, default="", db_index=True)
    public_key_pem = fields.TextField(default="")
    private_key_pem = fields.TextField(null=True)  # local accounts only

    avatar_remote_url = fields.CharField(max_length=1024, default="")
    header_remote_url = fields.CharField(max_length=1024, default="")
    # Ids of MediaAttachment rows; plain columns rather than foreign keys because media rows
    # point back at their account (a cycle the migrations cannot create in one step).
    avatar_media_id = fields.BigIntField(null=True)
    header_media_id = fields.BigIntField(null=True)

    locked = fields.BooleanField(default=False)  # follow requests need approval
    discoverable = fields.BooleanField(default=True)  # may appear in Explore and search
    indexable = fields.BooleanField(default=True)
    languages = fields.JSONField(default=list)  # languages the person reads / writes
    interests = fields.JSONField(default=list)  # hashtags picked at sign-up (seed the feed)

    followers_count = fields.IntField(default=0)
    following_count = fields.IntField(default=0)
    notes_count = fields.IntField(default=0)

    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    fetched_at = fields.DatetimeField(null=True)  # last refresh of a remote actor document
    gone_at = fields.DatetimeField(null=True)  # the remote answered 410, or sent Delete(actor)
    suspended_at = fields.DatetimeField(null=True)  # by a moderator of this instance
    silenced = fields.BooleanField(default=False)
    moved_to_uri = fields.CharField(max_length=512, default="")

    class Meta:
        table = "accounts"
        unique_together = (("username", "domain"),)

    @property
    def is_local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        """`name` for local accounts, `name@domain` for remote ones (as Mastodon's `acct`)."""
        return self.username if self.domain is None else f"{self.username}@{self.domain}"

    @property
    def display(self) -> str:
        return self.display_name or self.username

    def __str__(self) -> str:
        return self.acct
