"""Co-engagement neighbours on a real database: the like path keeps each note's top-K by lift
over the notes' stored engagement, and Explore's retrieval weighs them by the same lift."""

from __future__ import annotations

from redfed.models import Account, FeedEvent, Note, NoteNeighbour
from redfed.services.feed import signals
from redfed.services.feed.candidates import by_neighbours
from tests.support.feed import account, note


async def _like(person: Account, n: Note, k: int = signals.DEFAULT_TOP_K) -> None:
    """The like path's neighbour part: the event row, then the pairs (k: neighbours kept)."""
    await FeedEvent.create(account_id=person.id, note_id=n.id, author_id=n.account_id, kind="like")
    await signals.add_coengagement(person.id, n.id, k=k)


async def _hit_niche_and_note(k: int) -> tuple[Note, Note, Note]:
    """Two people like a hit (engagement 500) and then `a`; one likes a niche note and `a`.
    By raw co-counts the hit is `a`'s strongest neighbour (2 shared likes against 1)."""
    hit = await note(await account("big"), "x", engagement=500.0)
    niche = await note(await account("small"), "x", engagement=1.0)
    a = await note(await account("author"), "x", engagement=3.0)
    for i, first in enumerate([hit, hit, niche]):
        person = await account(f"p{i}", user=True)
        await _like(person, first, k)
        await _like(person, a, k)
    return hit, niche, a


async def test_a_full_row_keeps_the_neighbour_with_the_higher_lift(settings, db):
    hit, niche, a = await _hit_niche_and_note(k=1)
    kept = await NoteNeighbour.filter(note_id=a.id).values_list("neighbour_id", flat=True)
    assert list(kept) == [niche.id]
    # The hit's own row is not touched by the niche like: it keeps `a`.
    assert await NoteNeighbour.filter(note_id=hit.id, neighbour_id=a.id).exists()


async def test_explore_retrieval_weighs_neighbours_by_lift(settings, db):
    hit, niche, a = await _hit_niche_and_note(k=signals.DEFAULT_TOP_K)
    stored = dict(await NoteNeighbour.filter(note_id=a.id).values_list("neighbour_id", "score"))
    assert stored[hit.id] > stored[niche.id]  # raw co-counts: the hit leads
    me = await account("me", user=True)
    await FeedEvent.create(account_id=me.id, note_id=a.id, author_id=a.account_id, kind="like")
    scores = await by_neighbours(me.id)
    assert scores[niche.id] == (1.0, a.id)
    assert 0 < scores[hit.id][0] < scores[niche.id][0]
