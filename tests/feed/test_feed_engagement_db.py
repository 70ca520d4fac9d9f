"""Engagement counters on a real database: concurrent events lose no increment, not even the
first two an author ever gets (the row does not exist yet)."""

from __future__ import annotations

import asyncio

import pytest

from redfed.models import AuthorEngagement, Note
from redfed.services.feed import signals
from redfed.services.feed.types import FeedEvent as Kind
from tests.support.feed import account, note


async def test_concurrent_first_likes_of_an_author_are_all_counted(db):
    author = await account("new")
    notes = [await note(author, "x") for _ in range(8)]
    await asyncio.gather(*(signals.bump_engagement(n, Kind.LIKE) for n in notes))
    reach = await AuthorEngagement.get(account_id=author.id)
    assert reach.engagement == pytest.approx(8.0)
    engagement = await Note.filter(id__in=[n.id for n in notes]).values_list(
        "engagement", flat=True
    )
    assert list(engagement) == [1.0] * 8
