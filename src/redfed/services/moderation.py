"""Instance moderation of other servers: domain blocks (suspend, silence, reject media).

A suspended domain's traffic is refused at the inbox and its stored content removed; a blocked
domain also covers its subdomains (`evil.example` covers `a.evil.example`).

The block checks on the inbox's hot path and the listings' domain rules (services.visibility)
read an in-process copy of the block table that lives BLOCKS_TTL_SECONDS: a block made by
another process (a second `redfed run`, `redfed worker`, a CLI run) applies here within that
time; one made in this process (`block_domain`, `unblock_domain`, any saved or deleted
DomainBlock row) applies at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import connections
from tortoise.expressions import Q
from tortoise.signals import post_delete, post_save
from tortoise.transactions import in_transaction

from redfed.errors import ValidationError
from redfed.federation.handles import InvalidHandle, normalize_host
from redfed.models import Account, DomainBlock, DomainSeverity, Follow, Note

log = logging.getLogger(__name__)


def canonical_domain(domain: str) -> str:
    try:
        return normalize_host(domain.strip())
    except InvalidHandle as exc:
        raise ValidationError("That is not a valid domain.", field="domain") from exc


def _candidates(host: str) -> list[str]:
    """`a.b.example:8443` -> itself, then its parent domains: a block covers subdomains."""
    name, sep, port = host.lower().partition(":")
    labels = name.split(".")
    parents = [".".join(labels[i:]) for i in range(len(labels) - 1)] or [name]
    return ([host.lower()] if sep else []) + parents


BLOCKS_TTL_SECONDS = 5.0


@dataclass(frozen=True)
class BlockRule:
    """What a domain block says, as the hot-path checks need it."""

    domain: str
    severity: DomainSeverity
    reject_media: bool


@dataclass(frozen=True)
class _Snapshot:
    rules: dict[str, BlockRule]
    connection: object  # the database it was read from: a reopened database reads afresh
    expires: float


class _BlockCache:
    """The block table held in memory (a few thousand rows at most), refreshed by TTL."""

    def __init__(self) -> None:
        self.snapshot: _Snapshot | None = None
        self.generation = 0  # bumped by invalidate(): a read started before it is not kept
        self.clock = time.monotonic  # tests move it forward instead of sleeping

    def invalidate(self) -> None:
        self.snapshot = None
        self.generation += 1

    async def rules(self) -> dict[str, BlockRule]:
        connection = _root_connection()
        snap = self.snapshot
        if snap is not None and snap.connection is connection and snap.expires > self.clock():
            return snap.rules
        generation = self.generation
        rows = await DomainBlock.all().values_list("domain", "severity", "reject_media")
        rules = {d: BlockRule(d, DomainSeverity(s), bool(r)) for d, s, r in rows}
        if generation == self.generation:
            expires = self.clock() + BLOCKS_TTL_SECONDS
            self.snapshot = _Snapshot(rules, connection, expires)
        return rules


_cache = _BlockCache()


def _root_connection() -> object:
    """The database client itself, also from inside a transaction (whose wrapper is new)."""
    connection = connections.get("default")
    while (parent := getattr(connection, "_parent", None)) is not None:
        connection = parent
    return connection


def invalidate_block_cache() -> None:
    """Forget the in-memory copy of the block table (after a change made in this process)."""
    _cache.invalidate()


@post_save(DomainBlock)
async def _block_saved(
    sender: type[DomainBlock],
    instance: DomainBlock,
    created: bool,
    using_db: object,
    update_fields: object,
) -> None:
    """A row saved in this process applies at once. (`block_domain` forgets the copy again
    after its commit: a read between this and the commit may have kept the old table.)"""
    _cache.invalidate()


@post_delete(DomainBlock)
async def _block_deleted(
    sender: type[DomainBlock], instance: DomainBlock, using_db: object
) -> None:
    _cache.invalidate()


async def blocked_domains(*severities: DomainSeverity) -> list[str]:
    """The domains blocked with one of `severities`, exactly as stored (no subdomains)."""
    rules = await _cache.rules()
    return sorted(d for d, rule in rules.items() if rule.severity in severities)


async def domain_block_for(host: str) -> BlockRule | None:
    """The block that applies to `host` (the most specific one), or None."""
    if not host:
        return None
    rules = await _cache.rules()
    if not rules:
        return None
    return next((rules[c] for c in _candidates(host) if c in rules), None)


async def is_suspended_domain(host: str) -> bool:
    block = await domain_block_for(host)
    return block is not None and block.severity == DomainSeverity.SUSPEND


async def first_suspended(*hosts: str) -> str | None:
    """The first of `hosts` on a suspended domain, or None: one look at the block table."""
    rules = await _cache.rules()
    for host in hosts if rules else ():
        rule = next((rules[c] for c in _candidates(host) if c in rules), None) if host else None
        if rule is not None and rule.severity == DomainSeverity.SUSPEND:
            return host
    return None


async def rejects_media(host: str) -> bool:
    block = await domain_block_for(host)
    return block is not None and (block.reject_media or block.severity == DomainSeverity.SUSPEND)


async def block_domain(
    domain: str, *, severity: str = "suspend", reject_media: bool = False, reason: str = ""
) -> DomainBlock:
    """Create or change the block of `domain`; a suspension removes what we stored from it."""
    host = canonical_domain(domain)
    try:
        level = DomainSeverity(severity)
    except ValueError as exc:
        raise ValidationError("Unknown severity.", field="severity") from exc
    async with in_transaction():
        block = await DomainBlock.get_or_none(domain=host)
        if block is None:
            block = await DomainBlock.create(
                domain=host, severity=level, reject_media=reject_media, reason=reason
            )
        else:
            block.severity, block.reject_media, block.reason = level, reject_media, reason
            await block.save()
        accounts = Account.filter(_covered(host))
        if level == DomainSeverity.SUSPEND:
            ids = list(await accounts.values_list("id", flat=True))
            await Note.filter(account_id__in=ids).delete()
            await Follow.filter(follower_id__in=ids).delete()
            await Follow.filter(followee_id__in=ids).delete()
            await Account.filter(id__in=ids).update(suspended_at=datetime.now(UTC))
        elif level == DomainSeverity.SILENCE:
            await accounts.update(silenced=True)
    invalidate_block_cache()  # after the commit: a read during the change kept nothing
    log.info("moderation.domain_blocked domain=%s severity=%s", host, level)
    return block


def _covered(host: str) -> Q:
    """The accounts a block of `host` covers: on that host or any of its subdomains. Listings
    match blocked domains exactly, so a subdomain's accounts are kept out by these flags
    (and remote_accounts flags those created later)."""
    return Q(domain=host) | Q(domain__endswith=f".{host}")


async def _still_covered(domains: set[str]) -> set[str]:
    """Those of `domains` that a remaining block covers (read in the caller's transaction)."""
    remaining = {str(d) for d in await DomainBlock.all().values_list("domain", flat=True)}
    return {d for d in domains if any(c in remaining for c in _candidates(d))}


async def unblock_domain(domain: str) -> bool:
    """Lift the block; the accounts it covered are un-suspended (their content is gone) and
    un-silenced, unless another block still covers them."""
    host = canonical_domain(domain)
    async with in_transaction():
        deleted = await DomainBlock.filter(domain=host).delete()
        rows = await Account.filter(_covered(host)).distinct().values_list("domain", flat=True)
        covered = {str(d) for d in rows}
        # An account still under another block (its host's own, or a parent's) stays flagged.
        freed = covered - await _still_covered(covered)
        if freed:
            await Account.filter(domain__in=sorted(freed)).update(suspended_at=None, silenced=False)
    invalidate_block_cache()
    log.info("moderation.domain_unblocked domain=%s found=%s", host, bool(deleted))
    return bool(deleted)


async def list_domain_blocks() -> list[DomainBlock]:
    return list(await DomainBlock.all().order_by("domain"))
