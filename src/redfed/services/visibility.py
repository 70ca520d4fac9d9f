"""Who may see which note: the ONE place visibility rules live (PRIV-02/05/07).

`can_view` answers for one note; `visible_notes_query` builds the same rules as a query for
listings. Invisible means "not found" to callers (PRIV-07): never a 403 that leaks existence.
"""

from __future__ import annotations

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from redfed.errors import NotFound
from redfed.models import (
    Account,
    Block,
    DomainBlock,
    DomainSeverity,
    Follow,
    FollowState,
    Mention,
    Mute,
    Note,
    Visibility,
)

OPEN_VISIBILITIES = (Visibility.PUBLIC, Visibility.UNLISTED)


async def _domain_severity(domain: str | None) -> DomainSeverity | None:
    if domain is None:
        return None
    block = await DomainBlock.get_or_none(domain=domain.lower())
    return block.severity if block is not None else None


async def is_blocked_between(a: Account, b: Account) -> bool:
    """True when either account blocks the other."""
    return await Block.filter(
        Q(account_id=a.id, target_id=b.id) | Q(account_id=b.id, target_id=a.id)
    ).exists()


async def account_hidden(viewer: Account | None, account: Account) -> bool:
    """Suspended accounts and domains are gone for everyone; blocks hide both ways."""
    if account.suspended_at is not None:
        return True
    if await _domain_severity(account.domain) == DomainSeverity.SUSPEND:
        return True
    if viewer is None or viewer.id == account.id:
        return False
    return await is_blocked_between(viewer, account)


async def can_view(viewer: Account | None, note: Note) -> bool:
    """May `viewer` (None: logged out) see `note`?"""
    author: Account = await note.account
    if await account_hidden(viewer, author):
        return False
    if viewer is not None and viewer.id == author.id:
        return True
    if note.visibility in OPEN_VISIBILITIES:
        return True
    if viewer is None:
        return False
    if await Mention.filter(note_id=note.id, account_id=viewer.id).exists():
        return True
    if note.visibility == Visibility.FOLLOWERS:
        return await Follow.filter(
            follower_id=viewer.id, followee_id=author.id, state=FollowState.ACCEPTED
        ).exists()
    return False


async def require_visible(viewer: Account | None, note: Note | None) -> Note:
    """The note, or NotFound when it is missing or invisible to the viewer (PRIV-07)."""
    if note is None or not await can_view(viewer, note):
        raise NotFound()
    return note


async def _domains(*severities: DomainSeverity) -> list[str]:
    rows = await DomainBlock.filter(severity__in=list(severities)).values_list("domain", flat=True)
    return [str(d) for d in rows]


async def hidden_account_ids(viewer: Account | None) -> list[int]:
    """Accounts the viewer never sees in listings: blocked either way, or muted (PRIV-05)."""
    if viewer is None:
        return []
    blocked = await Block.filter(account_id=viewer.id).values_list("target_id", flat=True)
    blockers = await Block.filter(target_id=viewer.id).values_list("account_id", flat=True)
    muted = await Mute.filter(account_id=viewer.id).values_list("target_id", flat=True)
    return sorted({int(i) for i in (*blocked, *blockers, *muted)})  # type: ignore[call-overload]


async def visible_notes_query(
    viewer: Account | None, *, public_listing: bool = False
) -> QuerySet[Note]:
    """Notes the viewer may see in a listing, with the viewer's blocks and mutes applied.

    `public_listing=True` is for Explore, tags and search: public notes only, and silenced
    accounts and domains are kept out too.
    """
    query = Note.filter(account__suspended_at__isnull=True)
    severities = [DomainSeverity.SUSPEND]
    if public_listing:
        severities.append(DomainSeverity.SILENCE)
        query = query.filter(visibility=Visibility.PUBLIC, account__silenced=False)
    domains = await _domains(*severities)
    if domains:
        # Through an id subquery: a NOT IN on the joined, nullable domain column would drop
        # every local account (NULL NOT IN … is NULL, not true).
        query = query.exclude(
            account_id__in=Subquery(Account.filter(domain__in=domains).values("id"))
        )
    hidden = await hidden_account_ids(viewer)
    if hidden:
        query = query.exclude(account_id__in=hidden)
    if public_listing:
        return query
    return query.filter(_audience(viewer))


def _audience(viewer: Account | None) -> Q:
    open_ = Q(visibility__in=list(OPEN_VISIBILITIES))
    if viewer is None:
        return open_
    followed = Follow.filter(follower_id=viewer.id, state=FollowState.ACCEPTED).values(
        "followee_id"
    )
    mentioned = Mention.filter(account_id=viewer.id).values("note_id")
    return Q(
        open_,
        Q(account_id=viewer.id),
        Q(visibility=Visibility.FOLLOWERS, account_id__in=Subquery(followed)),
        Q(id__in=Subquery(mentioned)),
        join_type=Q.OR,
    )


async def visible_account(viewer: Account | None, acct: str) -> Account:
    """An account by `name` (local) or `name@domain`, or NotFound when unknown, suspended,
    gone or blocking either way."""
    name, _, domain = acct.lstrip("@").partition("@")
    if not name:
        raise NotFound()
    if domain:
        account = await Account.filter(username__iexact=name, domain__iexact=domain).first()
    else:
        account = await Account.get_or_none(username=name.lower(), domain=None)
    if account is None or account.gone_at is not None or await account_hidden(viewer, account):
        raise NotFound()
    return account
