"""Instance moderation of other servers: domain blocks (suspend, silence, reject media).

A suspended domain's traffic is refused at the inbox and its stored content removed; a blocked
domain also covers its subdomains (`evil.example` covers `a.evil.example`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

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


async def domain_block_for(host: str) -> DomainBlock | None:
    """The block that applies to `host` (the most specific one), or None."""
    if not host:
        return None
    candidates = _candidates(host)
    blocks = {b.domain: b for b in await DomainBlock.filter(domain__in=candidates)}
    return next((blocks[c] for c in candidates if c in blocks), None)


async def is_suspended_domain(host: str) -> bool:
    block = await domain_block_for(host)
    return block is not None and block.severity == DomainSeverity.SUSPEND


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
        accounts = Account.filter(domain__in=_covered(host))
        if level == DomainSeverity.SUSPEND:
            ids = list(await accounts.values_list("id", flat=True))
            await Note.filter(account_id__in=ids).delete()
            await Follow.filter(follower_id__in=ids).delete()
            await Follow.filter(followee_id__in=ids).delete()
            await Account.filter(id__in=ids).update(suspended_at=datetime.now(UTC))
        elif level == DomainSeverity.SILENCE:
            await accounts.update(silenced=True)
    log.info("moderation.domain_blocked domain=%s severity=%s", host, level)
    return block


def _covered(host: str) -> list[str]:
    # Exact match only for the account query; subdomains are caught at the inbox by
    # domain_block_for, and their accounts rarely exist before the block.
    return [host]


async def unblock_domain(domain: str) -> bool:
    """Lift the block; suspended accounts of the domain are un-suspended (their content is gone)."""
    host = canonical_domain(domain)
    async with in_transaction():
        deleted = await DomainBlock.filter(domain=host).delete()
        await Account.filter(domain=host).update(suspended_at=None, silenced=False)
    log.info("moderation.domain_unblocked domain=%s found=%s", host, bool(deleted))
    return bool(deleted)


async def list_domain_blocks() -> list[DomainBlock]:
    return list(await DomainBlock.all().order_by("domain"))
