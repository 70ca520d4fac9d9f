"""Shared model pieces: time-sortable primary keys and timestamps."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from redfed.ids import new_id


class SnowflakeModel(Model):
    """A model whose primary key is a time-sortable 64-bit id (see redfed.ids)."""

    id = fields.BigIntField(primary_key=True, generated=False, default=new_id)

    class Meta:
        abstract = True
