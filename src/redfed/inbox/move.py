"""Move: an actor announces its new home. Recorded on the account only (followers are not moved)."""

from __future__ import annotations

from redfed.activitypub.parse import ParsedActivity
from redfed.inbox.common import require
from redfed.models import Account


async def handle_move(rt: object, activity: ParsedActivity, actor: Account) -> None:
    require(activity.object_id == actor.uri, "Move of another actor")
    require(activity.target.startswith(("https://", "http://")), "Move without a target")
    await Account.filter(id=actor.id).update(moved_to_uri=activity.target[:512])
