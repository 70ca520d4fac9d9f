"""Decay of stored signals on a real database: a note's engagement fades in days, its author's
reach (what damping divides by) over months."""

from __future__ import annotations

from datetime import timedelta

import pytest

from redfed.models import AuthorEngagement, Note
from redfed.services.feed import maintenance
from redfed.services.feed.types import FeedSettings
from tests.support.feed import account, note


async def test_author_reach_decays_on_its_own_longer_half_life(settings, db):
    author = await account("big")
    n = await note(author, "x", engagement=8.0)
    await AuthorEngagement.create(account=author, engagement=8.0)
    fs = FeedSettings(engagement_half_life_days=7.0, author_half_life_days=180.0)
    await maintenance.decay_signals(fs, timedelta(days=7))
    assert (await Note.get(id=n.id)).engagement == pytest.approx(4.0)
    reach = (await AuthorEngagement.get(account=author)).engagement
    assert reach == pytest.approx(8.0 * 2 ** (-7 / 180))
