"""Interest-feed signals: local engagement events, interest weights, co-engagement neighbours."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from redfed.models.base import SnowflakeModel


class FeedEvent(SnowflakeModel):
    """One local user's engagement event. Kept 90 days, never federated."""

    account = fields.ForeignKeyField(
        "models.Account", related_name="feed_events", on_delete=fields.CASCADE
    )
    note = fields.ForeignKeyField(
        "models.Note", null=True, related_name=False, on_delete=fields.CASCADE
    )
    author = fields.ForeignKeyField(
        "models.Account", null=True, related_name=False, on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=24)  # impression, open, dwell, like, collect, comment, …
    value = fields.FloatField(default=1.0)  # dwell seconds for dwell; 1 otherwise
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "feed_events"
        indexes = (("account_id", "kind"), ("note_id", "kind"), ("created_at",))


class InterestWeight(Model):
    id = fields.BigIntField(primary_key=True)
    account = fields.ForeignKeyField(
        "models.Account", related_name="interest_weights", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=140)  # tag:travel, lang:zh, author:123
    weight = fields.FloatField(default=0.0)
    updated_at = fields.DatetimeField()  # weights decay lazily from this moment

    class Meta:
        table = "interest_weights"
        unique_together = (("account", "key"),)


class NoteNeighbour(Model):
    """'People who liked `note` also liked `neighbour`', with a co-engagement score."""

    id = fields.BigIntField(primary_key=True)
    note = fields.ForeignKeyField("models.Note", related_name=False, on_delete=fields.CASCADE)
    neighbour = fields.ForeignKeyField("models.Note", related_name=False, on_delete=fields.CASCADE)
    score = fields.FloatField(default=0.0)

    class Meta:
        table = "note_neighbours"
        unique_together = (("note", "neighbour"),)
        # Covers the reads by strength (Explore serves each liked note's strongest pairs of
        # the more it stores; the pairing job trims by strength) without a row lookup each:
        # SQLite 12 → 5.5 ms p50 for 40 full rows (bench/README.md, feed_eval round 5).
        indexes = (("note_id", "score", "neighbour_id"),)


class AuthorEngagement(Model):
    """Decayed local engagement of one author's notes over months, their reach (for damping
    big authors, α; FeedSettings.author_half_life_days)."""

    id = fields.BigIntField(primary_key=True)
    account = fields.OneToOneField(
        "models.Account", related_name="feed_engagement", on_delete=fields.CASCADE
    )
    engagement = fields.FloatField(default=0.0)

    class Meta:
        table = "feed_author_engagement"


class TrendingNote(Model):
    """A note trending in one language, recomputed by the feed worker."""

    id = fields.BigIntField(primary_key=True)
    note = fields.OneToOneField("models.Note", related_name="trending", on_delete=fields.CASCADE)
    language = fields.CharField(max_length=16, default="")
    score = fields.FloatField(default=0.0)

    class Meta:
        table = "feed_trending"
        indexes = (("language", "score"),)


class FeedConfig(Model):
    """The admin's feed settings: one row, id 1. Without it, `settings.feed` applies."""

    id = fields.IntField(primary_key=True)
    alpha = fields.FloatField()
    new_creator_share = fields.FloatField()
    remote_in_explore = fields.CharField(max_length=16)  # all | followed | none

    class Meta:
        table = "feed_config"
