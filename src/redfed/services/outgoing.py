"""What each local change sends over federation, and to whom: the `federate` job's builders.

services/outbox.py records an event (note created, liked, follow accepted …) in the change's
transaction; here each event becomes an `Outgoing` — the activity rendered by activitypub/ and
its recipients. services/fanout.py turns that into one delivery per inbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from redfed.activitypub import render, uris
from redfed.activitypub.audience import audience_for
from redfed.models import (
    Account,
    Block,
    Follow,
    FollowState,
    Job,
    Like,
    MediaAttachment,
    Mention,
    Note,
    NoteTag,
)
from redfed.runtime import Runtime
from redfed.services import profiles
from redfed.services.jobs import utcnow


@dataclass
class Outgoing:
    """One activity to send, signed by `actor`, to `recipients` (their inboxes)."""

    actor: Account
    activity: dict[str, Any]
    recipients: list[Account] = field(default_factory=list)
    shared: bool = True  # may use shared inboxes (not for one-to-one activities)
    through_blocks: bool = False  # Block / Undo(Block) go to the blocked account itself


Builder = Callable[[Runtime, Job, dict[str, Any]], Awaitable[Outgoing | None]]


# ------------------------------------------------------------------ recipients


# What a fan-out reads of each follower: where to deliver, whether it may, and when its actor
# document was fetched (stale ones are refreshed). Loading whole rows made 10,000 followers
# cost seconds, most of it parsing timestamps no fan-out looks at.
RECIPIENT_FIELDS = (
    "id",
    "uri",
    "domain",
    "inbox_uri",
    "shared_inbox_uri",
    "suspended_at",
    "gone_at",
    "fetched_at",
)


async def followers_of(account: Account) -> list[Account]:
    """Accepted remote followers, as partial rows (RECIPIENT_FIELDS; never `save()` them)."""
    return list(
        await Account.filter(
            following__followee_id=account.id,
            following__state=FollowState.ACCEPTED,
            domain__not_isnull=True,
        ).only(*RECIPIENT_FIELDS)
    )


async def followed_by(account: Account) -> list[Account]:
    return list(await Account.filter(followers__follower_id=account.id, domain__not_isnull=True))


async def _accounts(ids: Iterable[int | None]) -> list[Account]:
    wanted = [i for i in ids if i is not None]
    return list(await Account.filter(id__in=wanted)) if wanted else []


# ------------------------------------------------------------------ notes


async def _note_parts(
    note: Note,
) -> tuple[list[MediaAttachment], list[str], list[Account], Note | None]:
    media = list(await MediaAttachment.filter(note_id=note.id).order_by("position"))
    tags = list(
        await NoteTag.filter(note_id=note.id).order_by("id").values_list("tag__name", flat=True)
    )
    rows = await Mention.filter(note_id=note.id).order_by("id").values_list("account_id")
    mentions = await _accounts(int(row[0]) for row in rows)
    parent = await Note.get_or_none(id=note.in_reply_to_id) if note.in_reply_to_id else None  # type: ignore[attr-defined]
    return media, [str(t) for t in tags], mentions, parent


async def note_document(
    base_url: str, note: Note, author: Account
) -> tuple[dict[str, Any], list[Account]]:
    """The AS2 Note of a local note (also served by web/activitypub.py) and the accounts it
    addresses besides followers: its mentions and, for a comment, the parent's author."""
    media, tags, mentions, parent = await _note_parts(note)
    parent_author = await Account.get_or_none(id=parent.account_id) if parent else None  # type: ignore[attr-defined]
    addressed = mentions + (
        [parent_author] if parent_author and parent_author not in mentions else []
    )
    doc = render.render_note(
        note,
        author=author,
        base_url=base_url,
        media=media,
        tags=tags,
        mentions=addressed,
        in_reply_to=parent.uri if parent else None,
    )
    return doc, addressed


async def _note_outgoing(
    rt: Runtime, job: Job, payload: dict[str, Any], *, update: bool
) -> Outgoing | None:
    note = await Note.get_or_none(id=payload["note_id"], local=True).prefetch_related("account")
    if note is None:
        return None
    author: Account = note.account
    doc, addressed = await note_document(rt.base_url, note, author)
    if update:
        stamp = int((note.edited_at or utcnow()).timestamp())
        activity = render.render_update(doc, actor=author.uri, stamp=stamp)
    else:
        activity = render.render_create(doc)
    recipients = list(addressed)
    if note.visibility != "direct":
        recipients += await followers_of(author)
    return Outgoing(author, activity, recipients)


async def _note_created(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    return await _note_outgoing(rt, job, payload, update=False)


async def _note_updated(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    return await _note_outgoing(rt, job, payload, update=True)


async def _note_deleted(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    author = await Account.get_or_none(id=payload["account_id"])
    if author is None:
        return None
    addressed = await _accounts(
        [*payload.get("mentioned_ids", []), payload.get("parent_author_id")]
    )
    followers = author.followers_uri or uris.followers_uri(author.uri)
    audience = audience_for(str(payload["visibility"]), followers, [a.uri for a in addressed])
    activity = render.render_delete(str(payload["note_uri"]), actor=author.uri, audience=audience)
    recipients = addressed + (
        await followers_of(author) if payload["visibility"] != "direct" else []
    )
    return Outgoing(author, activity, recipients)


# ------------------------------------------------------------------ interactions and accounts


async def _note_liked(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    like = await Like.get_or_none(id=payload["like_id"]).prefetch_related(
        "account", "note__account"
    )
    if like is None or not like.account.is_local:
        return None
    actor, author = like.account, like.note.account
    like_id = like.uri or uris.like_uri(actor.uri, like.id)
    activity = render.render_like(
        like_id, actor=actor.uri, note_uri=like.note.uri, note_author=author.uri
    )
    return Outgoing(actor, activity, [author], shared=False)


async def _note_unliked(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    actor, author = await _pair(payload["account_id"], payload["note_author_id"])
    if actor is None or author is None or not payload.get("like_uri"):
        return None
    like = render.render_like(
        str(payload["like_uri"]),
        actor=actor.uri,
        note_uri=str(payload["note_uri"]),
        note_author=author.uri,
    )
    return Outgoing(actor, render.render_undo(like, to=[author.uri]), [author], shared=False)


async def _pair(first: int | None, second: int | None) -> tuple[Account | None, Account | None]:
    a = await Account.get_or_none(id=first) if first is not None else None
    b = await Account.get_or_none(id=second) if second is not None else None
    return a, b


async def _follow_requested(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    follow = await Follow.get_or_none(id=payload["follow_id"]).prefetch_related(
        "follower", "followee"
    )
    if follow is None:
        return None
    actor, target = follow.follower, follow.followee
    follow_id = follow.uri or uris.follow_uri(actor.uri, follow.id)
    return Outgoing(
        actor,
        render.render_follow(follow_id, actor=actor.uri, target=target.uri),
        [target],
        shared=False,
    )


async def _follow_undone(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    actor, target = await _pair(payload["follower_id"], payload["followee_id"])
    if actor is None or target is None or not payload.get("follow_uri"):
        return None
    follow = render.render_follow(str(payload["follow_uri"]), actor=actor.uri, target=target.uri)
    return Outgoing(actor, render.render_undo(follow, to=[target.uri]), [target], shared=False)


async def _follow_accepted(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    follow = await Follow.get_or_none(id=payload["follow_id"]).prefetch_related(
        "follower", "followee"
    )
    if follow is None or not follow.uri:
        return None
    actor, follower = follow.followee, follow.follower
    accept = render.render_accept(
        uris.accept_uri(actor.uri, follow.id),
        actor=actor.uri,
        follow_id=follow.uri,
        follower=follower.uri,
    )
    return Outgoing(actor, accept, [follower], shared=False)


async def _follow_rejected(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    actor, follower = await _pair(payload["followee_id"], payload["follower_id"])
    if actor is None or follower is None or not payload.get("follow_uri"):
        return None
    # The Follow row is gone; the federate job's id is stable across its own retries.
    reject = render.render_reject(
        uris.reject_uri(actor.uri, job.id),
        actor=actor.uri,
        follow_id=str(payload["follow_uri"]),
        follower=follower.uri,
    )
    return Outgoing(actor, reject, [follower], shared=False)


async def _account_blocked(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    block = await Block.get_or_none(id=payload["block_id"]).prefetch_related("account", "target")
    if block is None:
        return None
    block_id = block.uri or uris.block_uri(block.account.uri, block.id)
    activity = render.render_block(block_id, actor=block.account.uri, target=block.target.uri)
    # Sent to the blocked actor itself, as Mastodon does (so its server hides our posts).
    return Outgoing(block.account, activity, [block.target], shared=False, through_blocks=True)


async def _account_unblocked(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    actor, target = await _pair(payload["account_id"], payload["target_id"])
    if actor is None or target is None or not payload.get("block_uri"):
        return None
    block = render.render_block(str(payload["block_uri"]), actor=actor.uri, target=target.uri)
    undo = render.render_undo(block, to=[target.uri])
    return Outgoing(actor, undo, [target], shared=False, through_blocks=True)


async def _profile_updated(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    account = await Account.get_or_none(id=payload["account_id"], domain=None)
    if account is None or account.gone_at is not None:
        return None
    avatar = await profiles.profile_image(account, "avatar")
    header = await profiles.profile_image(account, "header")
    doc = render.render_actor(account, base_url=rt.base_url, avatar=avatar, header=header)
    activity = render.render_update(doc, actor=account.uri, stamp=job.id)
    return Outgoing(account, activity, await followers_of(account))


async def _account_deleted(rt: Runtime, job: Job, payload: dict[str, Any]) -> Outgoing | None:
    account = await Account.get_or_none(id=payload["account_id"], domain=None)
    if account is None:
        return None
    activity = render.render_delete(account.uri, actor=account.uri)
    recipients = await followers_of(account) + await followed_by(account)
    return Outgoing(account, activity, recipients)


BUILDERS: dict[str, Builder] = {
    "note_created": _note_created,
    "note_updated": _note_updated,
    "note_deleted": _note_deleted,
    "note_liked": _note_liked,
    "note_unliked": _note_unliked,
    "follow_requested": _follow_requested,
    "follow_undone": _follow_undone,
    "follow_accepted": _follow_accepted,
    "follow_rejected": _follow_rejected,
    "account_blocked": _account_blocked,
    "account_unblocked": _account_unblocked,
    "profile_updated": _profile_updated,
    "account_deleted": _account_deleted,
}
