"""PRIV-08: Explore never holds a note the viewer may not see, nor one from a muted or blocked
account (either way) or a blocked domain — property-tested over generated small worlds."""

from __future__ import annotations

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from redfed.models import (
    Account,
    Block,
    DomainBlock,
    DomainSeverity,
    Follow,
    FollowState,
    Mute,
    Note,
    Visibility,
)
from redfed.services.feed.explore import explore_page
from redfed.services.moderation import block_domain
from redfed.services.visibility import can_view
from tests.support.feed import account, note

N = 6  # accounts per world; account 0 is the viewer (local user)
DOMAINS = [None, None, "a.example", "b.example", "sub.a.example"]
pairs = st.lists(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)), max_size=8)
world = st.fixed_dictionaries(
    {
        "domains": st.lists(st.sampled_from(DOMAINS), min_size=N, max_size=N),
        "follows": pairs,
        "blocks": pairs,
        "mutes": pairs,
        "domain_blocks": st.lists(
            st.tuples(st.sampled_from(DOMAINS[2:]), st.sampled_from(list(DomainSeverity))),
            max_size=2,
        ),
        "notes": st.lists(
            st.tuples(st.integers(1, N - 1), st.sampled_from(list(Visibility)), st.booleans()),
            min_size=1,
            max_size=12,
        ),
    }
)


def _covered(domain: str | None, blocked: set[str]) -> bool:
    """A block covers its subdomains: sub.a.example is under a.example's."""
    return domain is not None and any(domain == d or domain.endswith(f".{d}") for d in blocked)


async def _wipe() -> None:
    for model in (Note, Follow, Block, Mute, DomainBlock, Account):
        await model.all().delete()


async def _build(w: dict) -> tuple[Account, list[Account]]:
    await _wipe()
    accs = [
        await account(f"u{i}", domain=None if i == 0 else w["domains"][i], user=i == 0)
        for i in range(N)
    ]
    for a, b in {(a, b) for a, b in w["follows"] if a != b}:
        await Follow.create(
            follower_id=accs[a].id, followee_id=accs[b].id, state=FollowState.ACCEPTED
        )
    for kind, model in (("blocks", Block), ("mutes", Mute)):
        for a, b in {(a, b) for a, b in w[kind] if a != b}:
            await model.create(account_id=accs[a].id, target_id=accs[b].id)
    for domain, severity in w["domain_blocks"]:  # as the admin does: flags what it covers
        await block_domain(domain, severity=severity.value)
    for author, vis, sensitive in w["notes"]:
        await note(accs[author], "x", visibility=vis, sensitive=sensitive)
    return accs[0], accs


@hsettings(
    max_examples=25,
    deadline=None,
    # A loaded CI machine must not fail the privacy property for being slow.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(w=world)
async def test_explore_never_shows_what_the_viewer_may_not_see(settings, db, w):
    viewer, accs = await _build(w)
    muted = {m.target_id for m in await Mute.filter(account_id=viewer.id)}
    blocked = {b.target_id for b in await Block.filter(account_id=viewer.id)}
    blockers = {b.account_id for b in await Block.filter(target_id=viewer.id)}
    # Silenced domains stay out of Explore too (a public listing), not only suspended ones.
    blocked_domains = set(
        await DomainBlock.exclude(severity=DomainSeverity.NOOP).values_list("domain", flat=True)
    )
    for who in (viewer, None):
        cursor, shown = None, []
        for _ in range(5):
            page = await explore_page(who, cursor, settings, page_size=4)
            shown += [n for n, _ in page.cards]
            if not page.cards:
                break
            cursor = page.next_cursor
        for n in shown:
            author = await Account.get(id=n.account_id)
            assert await can_view(who, n)
            assert n.visibility == Visibility.PUBLIC
            assert not _covered(author.domain, blocked_domains)
            if who is not None:
                assert author.id not in muted | blocked | blockers
