"""The durable job queue: deliveries, inbox processing, fetches and maintenance, one table.

A job is written in the same transaction as the change that causes it, so a crash never loses
work. `unique_key` makes enqueueing idempotent (an inbox activity id is stored once: IDEM-01/02).
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from redfed.models.base import SnowflakeModel


class JobState(StrEnum):
    QUEUED = "queued"  # waiting for run_at
    RUNNING = "running"  # claimed by a worker until locked_until
    DONE = "done"  # kept for a while: replays of the same unique_key are recognised
    DEAD = "dead"  # gave up (permanent error or attempts exhausted); kept for the admin


class Job(SnowflakeModel):
    kind = fields.CharField(
        max_length=32
    )  # handler name: deliver, inbox, fetch_note, feed_maintenance …
    payload = fields.JSONField(default=dict)
    unique_key = fields.CharField(max_length=600, null=True, unique=True)
    state = fields.CharEnumField(JobState, default=JobState.QUEUED, max_length=16)
    attempts = fields.IntField(default=0)
    max_attempts = fields.IntField(default=16)
    run_at = fields.DatetimeField()
    locked_until = fields.DatetimeField(null=True)
    locked_by = fields.CharField(max_length=64, default="")
    domain = fields.CharField(max_length=253, default="", db_index=True)  # deliveries: target host
    last_error = fields.TextField(default="")
    last_status = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "jobs"
        indexes = (("state", "run_at"), ("kind", "state"))


class DomainHealth(SnowflakeModel):
    """Delivery health of one remote domain: circuit breaker, 'unavailable' mark (FLT-05/06)."""

    domain = fields.CharField(max_length=253, unique=True)
    consecutive_failures = fields.IntField(default=0)
    failing_since = fields.DatetimeField(null=True)
    failure_days = fields.JSONField(default=list)  # distinct ISO dates with failures, newest last
    circuit_open_until = fields.DatetimeField(null=True)
    unavailable = fields.BooleanField(default=False)
    last_success_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")

    class Meta:
        table = "domain_health"
