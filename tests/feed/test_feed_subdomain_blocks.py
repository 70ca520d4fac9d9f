"""A domain block covers its subdomains in listings too (PRIV-08): the accounts of
`a.evil.example` leave Explore when `evil.example` is silenced or suspended, an account first
seen there later is silenced as it is stored, and lifting the block frees only what no other
block still covers."""

from __future__ import annotations

from redfed.activitypub.parse import parse_actor
from redfed.models import Account
from redfed.services import visibility
from redfed.services.feed.explore import explore_page
from redfed.services.moderation import block_domain, unblock_domain
from redfed.services.remote_accounts import upsert_remote_actor
from tests.support.feed import account, note


async def _listed(viewer: Account) -> set[int]:
    query = await visibility.visible_notes_query(viewer, public_listing=True)
    return {int(i) for i in await query.values_list("id", flat=True)}


async def _explored(viewer: Account, settings) -> set[int]:
    page = await explore_page(viewer, None, settings, page_size=10)
    return {n.id for n, _ in page.cards}


async def test_silencing_a_domain_keeps_its_subdomains_out_of_listings(settings, db):
    me = await account("me", user=True)
    sub = await note(await account("eve", domain="a.evil.example"), "x", engagement=5.0)
    fine = await note(await account("ann", domain="evil.example.org"), "x", engagement=1.0)
    assert {sub.id, fine.id} <= await _explored(me, settings)
    await block_domain("evil.example", severity="silence")
    assert sub.id not in await _listed(me) and fine.id in await _listed(me)
    assert await _explored(me, settings) == {fine.id}


async def test_suspending_a_domain_suspends_its_subdomains_accounts(settings, db):
    me = await account("me", user=True)
    eve = await account("eve", domain="a.evil.example")
    sub = await note(eve, "x", engagement=5.0)
    await block_domain("evil.example", severity="suspend")
    assert (await Account.get(id=eve.id)).suspended_at is not None
    assert sub.id not in await _explored(me, settings)


async def test_an_account_first_seen_on_a_silenced_subdomain_is_silenced(db):
    await block_domain("evil.example", severity="silence")
    doc = {
        "id": "https://new.evil.example/users/mallory",
        "type": "Person",
        "preferredUsername": "mallory",
        "inbox": "https://new.evil.example/users/mallory/inbox",
    }
    stored = await upsert_remote_actor(parse_actor(doc))
    assert stored.silenced


async def test_lifting_a_block_frees_only_what_no_other_block_covers(db):
    eve = await account("eve", domain="a.evil.example")
    bob = await account("bob", domain="b.evil.example")
    await block_domain("evil.example", severity="silence")
    await block_domain("b.evil.example", severity="silence")
    await unblock_domain("evil.example")
    assert not (await Account.get(id=eve.id)).silenced
    assert (await Account.get(id=bob.id)).silenced  # its own block still stands
