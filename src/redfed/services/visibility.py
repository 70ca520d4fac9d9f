"""Who may see which note: the ONE place visibility rules live (PRIV-02/05/07).

`can_view` answers for one note; `visible_notes_query` builds the same rules as a query for
listings. Invisible means "not found" to callers (PRIV-07): never a 403 that leaks existence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
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
    Note,
    Visibility,
)
from redfed.services.moderation import blocked_domains

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
    # From services.moderation's in-memory copy of the block table (its rule: at once for
    # changes made in this process, within seconds for another's): Explore asked the
    # database twice a page.
    return await blocked_domains(*severities)


async def hidden_account_ids(viewer: Account | None) -> list[int]:
    """Accounts the viewer never sees in listings: blocked either way, or muted (PRIV-05)."""
    if viewer is None:
        return []
    # One statement, not three: Explore reads this on every page.
    rows = await raw_rows(
        "SELECT target_id FROM blocks WHERE account_id = {} UNION ALL"
        " SELECT account_id FROM blocks WHERE target_id = {} UNION ALL"
        " SELECT target_id FROM mutes WHERE account_id = {}",
        [viewer.id, viewer.id, viewer.id],
    )
    return sorted({int(r[0]) for r in rows})


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


def ids_in_sql(column: str, ids: Sequence[int]) -> tuple[str, object]:
    """`column` IN the ids, as one SQL condition with one parameter (placeholder `{}`):
    PostgreSQL `= ANY($n)`, SQLite a JSON array through json_each. Building 1,000 separate
    placeholders through the query builder cost ≈ 10 ms a query."""
    values = [int(i) for i in ids]
    if connections.get("default").capabilities.dialect == "postgres":
        return f"{column} = ANY({{}}::bigint[])", values
    return f"{column} IN (SELECT value FROM json_each({{}}))", json.dumps(values)  # noqa: S608


async def raw_rows(sql: str, params: Sequence[object]) -> list[Sequence[Any]]:
    """Run `sql` whose placeholders are `{}` on the default connection; rows as tuples."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        sql = sql.format(*(f"${n}" for n in range(1, len(params) + 1)))
    else:
        sql = sql.format(*("?" for _ in params))
    _count, rows = await conn.execute_query(sql, list(params))
    return [tuple(r) for r in rows]


def as_datetime(value: Any) -> datetime:
    """A timestamp column read raw: PostgreSQL gives datetimes, SQLite ISO strings."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# The columns public_listing_rows' rules need (n = notes, a = the author's account).
_BY_ID_RULES = "n.visibility, n.account_id, a.suspended_at, a.silenced, a.domain"


async def public_listing_rows(
    viewer: Account | None, ids: Sequence[int], columns: str
) -> list[Sequence[Any]]:
    """`columns` (SQL over `n` = notes and `a` = author accounts) of those of `ids` that
    `visible_notes_query(viewer, public_listing=True)` would list: the same rules, for a
    known set of ids (Explore's candidates).

    The rows are read by primary key and the rules checked here, in this module: with the
    rules in the WHERE clause SQLite walks the (visibility, in_reply_to_id) index over every
    public note instead of looking the ids up (≈ 130 ms for 1,000 ids at 100k notes). Raw
    SQL: converting 1,000 rows of datetimes through the ORM cost ≈ 40 ms.
    """
    if not ids:
        return []
    domains = set(await _domains(DomainSeverity.SUSPEND, DomainSeverity.SILENCE))
    hidden = set(await hidden_account_ids(viewer))
    cond, param = ids_in_sql("n.id", ids)
    rows = await raw_rows(
        # Every fragment is a constant of the code; the ids travel as one parameter.
        f"SELECT {_BY_ID_RULES}, {columns} FROM notes n "  # noqa: S608
        f"JOIN accounts a ON a.id = n.account_id WHERE {cond}",
        [param],
    )
    out = []
    for row in rows:
        visibility, author, suspended_at, silenced, domain = row[:5]
        if (
            visibility == Visibility.PUBLIC
            and suspended_at is None
            and not silenced
            and (domain is None or domain not in domains)
            and int(author) not in hidden
        ):
            out.append(row[5:])
    return out


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
