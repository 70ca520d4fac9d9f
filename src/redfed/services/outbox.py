"""What local changes tell the fediverse: one durable `federate` job per change.

A service calls one of these inside the transaction that makes the change, so the change and
its federation land together or not at all. The worker's `federate` handler
(services/fanout.py) later renders the activity and fans it out into one `deliver` job per
distinct inbox — so a note to 10,000 followers never slows the request that posted it.

Payloads carry ids of rows that still exist when the job runs, or — for deletions and undos,
whose rows are gone by then — everything needed to render the activity.
"""

from __future__ import annotations

from typing import Any

from redfed.models import Account, Block, Follow, Like, Note
from redfed.services.jobs import enqueue

FEDERATE = "federate"


async def _federate(event: str, **payload: Any) -> None:
    await enqueue(FEDERATE, {"event": event, **payload})


async def note_created(note: Note) -> None:
    await _federate("note_created", note_id=note.id)


async def note_updated(note: Note) -> None:
    await _federate("note_updated", note_id=note.id)


async def note_deleted(
    note: Note, *, mentioned_ids: list[int], parent_author_id: int | None
) -> None:
    """Call before deleting the row: the Delete is addressed as the note was."""
    await _federate(
        "note_deleted",
        note_uri=note.uri,
        account_id=note.account_id,  # type: ignore[attr-defined]
        visibility=str(note.visibility),
        mentioned_ids=mentioned_ids,
        parent_author_id=parent_author_id,
    )


async def note_liked(like: Like) -> None:
    await _federate("note_liked", like_id=like.id)


async def note_unliked(like: Like, note: Note) -> None:
    """Call before deleting the Like row: the Undo embeds the original Like."""
    await _federate(
        "note_unliked",
        like_uri=like.uri,
        account_id=like.account_id,  # type: ignore[attr-defined]
        note_uri=note.uri,
        note_author_id=note.account_id,  # type: ignore[attr-defined]
    )


async def follow_requested(follow: Follow) -> None:
    await _federate("follow_requested", follow_id=follow.id)


async def follow_undone(follow: Follow) -> None:
    """Call before deleting the Follow row."""
    await _federate(
        "follow_undone",
        follow_uri=follow.uri,
        follower_id=follow.follower_id,  # type: ignore[attr-defined]
        followee_id=follow.followee_id,  # type: ignore[attr-defined]
    )


async def follow_accepted(follow: Follow) -> None:
    await _federate("follow_accepted", follow_id=follow.id)


async def follow_rejected(follow: Follow) -> None:
    """Call before deleting the Follow row."""
    await _federate(
        "follow_rejected",
        follow_uri=follow.uri,
        follower_id=follow.follower_id,  # type: ignore[attr-defined]
        followee_id=follow.followee_id,  # type: ignore[attr-defined]
    )


async def account_blocked(block: Block) -> None:
    await _federate("account_blocked", block_id=block.id)


async def account_unblocked(block: Block) -> None:
    """Call before deleting the Block row."""
    await _federate(
        "account_unblocked",
        block_uri=block.uri,
        account_id=block.account_id,  # type: ignore[attr-defined]
        target_id=block.target_id,  # type: ignore[attr-defined]
    )


async def profile_updated(account: Account) -> None:
    await _federate("profile_updated", account_id=account.id)


async def account_deleted(account: Account) -> None:
    """A deleted local account keeps its row (marked `gone_at`, content removed) so that the
    Delete can still be signed with its key and its name is never reused."""
    await _federate("account_deleted", account_id=account.id)
