"""Visibility matrix (PRIV-02/07): four visibilities × seven kinds of viewer, checked through
`can_view` and through the listing query, which must agree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from redfed.errors import NotFound
from redfed.models import Block, DomainBlock, DomainSeverity, Follow, FollowState, Visibility
from redfed.services import timelines
from redfed.services.interactions import get_note
from redfed.services.visibility import can_view, visible_notes_query
from tests.support.notes import account

V = Visibility
EXPECTED = {
    #              anon   author follower pending mentioned stranger blocked
    V.PUBLIC: (True, True, True, True, True, True, False),
    V.UNLISTED: (True, True, True, True, True, True, False),
    V.FOLLOWERS: (False, True, True, False, True, False, False),
    V.DIRECT: (False, True, False, False, True, False, False),
}
KINDS = ("anonymous", "author", "follower", "pending", "mentioned", "stranger", "blocked")


@pytest.fixture
async def cast(db):
    author = await account("alice")
    people = {name: await account(name) for name in KINDS[2:]}
    await Follow.create(follower=people["follower"], followee=author, state=FollowState.ACCEPTED)
    await Follow.create(follower=people["pending"], followee=author, state=FollowState.PENDING)
    await Block.create(account=author, target=people["blocked"])
    return {"anonymous": None, "author": author, **people}


@pytest.mark.parametrize("visibility", list(V))
async def test_visibility_matrix(cast, make_note, visibility) -> None:
    note = await make_note(
        cast["author"], text="hello @mentioned and @blocked", visibility=visibility
    )
    for kind, expected in zip(KINDS, EXPECTED[visibility], strict=True):
        viewer = cast[kind]
        assert await can_view(viewer, note) is expected, (visibility, kind)
        listed = await (await visible_notes_query(viewer)).filter(id=note.id).exists()
        assert listed is expected, ("listing", visibility, kind)
        on_profile = [n.id for n in await timelines.profile_notes(viewer, cast["author"])]
        assert (note.id in on_profile) is expected, ("profile", visibility, kind)
        if not expected:  # PRIV-07: invisible is "not found", never "forbidden"
            with pytest.raises(NotFound):
                await get_note(note.id, viewer)


async def test_suspended_author_and_domain_are_hidden_everywhere(db, make_note) -> None:
    alice = await account("alice")
    note = await make_note(alice, text="x")
    alice.suspended_at = datetime.now(UTC)
    await alice.save()
    assert not await can_view(alice, note) and not await can_view(None, note)
    assert await timelines.explore_newest(None) == []

    from redfed.models import Note

    remote = await account("bob", domain="bad.example")
    remote_note = await Note.create(
        uri="https://bad.example/n/1",
        account=remote,
        local=False,
        title="remote",
        published_at=datetime.now(UTC),
    )
    assert await can_view(None, remote_note)
    await DomainBlock.create(domain="bad.example", severity=DomainSeverity.SUSPEND)
    assert not await can_view(None, remote_note)
    assert not await (await visible_notes_query(None)).filter(id=remote_note.id).exists()


async def test_silenced_kept_out_of_public_listings_only(db, make_note) -> None:
    quiet = await account("quiet", silenced=True)
    note = await make_note(quiet, text="#cats purr")
    assert await can_view(None, note)
    assert await timelines.explore_newest(None) == []
    assert await timelines.tag_notes(None, "cats") == []
    assert [n.id for n in await timelines.profile_notes(None, quiet)] == [note.id]


async def test_a_domain_block_from_another_process_applies_to_listings_within_the_ttl(
    db, monkeypatch
) -> None:
    from redfed.models import Note
    from redfed.services import moderation

    # Given a remote note listed (the block table read into memory: nothing blocked)
    remote = await account("bob", domain="bad.example")
    note = await Note.create(
        uri="https://bad.example/n/1",
        account=remote,
        local=False,
        title="remote",
        published_at=datetime.now(UTC),
    )
    assert [n.id for n in await timelines.explore_newest(None)] == [note.id]
    # When another process blocks the domain (a row written behind this process's back: a
    # bulk_create sends no save signal, which would make this process forget its copy)
    await DomainBlock.bulk_create([DomainBlock(domain="bad.example")])
    # Then the copy in memory is used until its TTL ends (the documented delay) ...
    assert [n.id for n in await timelines.explore_newest(None)] == [note.id]
    # ... and once it has ended the note is out of the listings
    later = moderation._cache.clock() + moderation.BLOCKS_TTL_SECONDS + 0.1
    monkeypatch.setattr(moderation._cache, "clock", lambda: later)
    assert await timelines.explore_newest(None) == []
    assert not await (await visible_notes_query(None)).filter(id=note.id).exists()
