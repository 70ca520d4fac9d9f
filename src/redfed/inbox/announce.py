"""Announce (boost) of a public or unlisted note; the note is taken from its origin, never from the
boost's embedded copy (ORI-02), and non-public notes are never boosted (PRIV-01);
a boost addressed to a suspended domain is dropped (PRIV-06)."""

from __future__ import annotations

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from redfed.activitypub.normalize import host_of
from redfed.activitypub.parse import ParsedActivity
from redfed.inbox.common import notify, require, require_same_host, was_undone
from redfed.models import Account, Boost, Note, NotificationKind, Visibility
from redfed.runtime import Runtime
from redfed.services.moderation import first_suspended
from redfed.services.remote_notes import fetch_remote_note


async def handle_announce(rt: Runtime, activity: ParsedActivity, actor: Account) -> None:
    require_same_host(activity, activity.id)
    require(bool(activity.object_id), "announce without an object id")
    require(not await was_undone(actor, activity.id), "announce undone before it arrived")
    # PRIV-06: a boost addressed to a suspended domain is dropped like one of its notes.
    hosts = {host_of(u) for u in (*activity.to, *activity.cc)}
    require(await first_suspended(*sorted(hosts)) is None, "addressed to a suspended domain")
    note = await fetch_remote_note(rt, activity.object_id)
    require(note is not None, "announce of an unavailable note")
    assert note is not None
    require(
        note.visibility in (Visibility.PUBLIC, Visibility.UNLISTED), "announce of a non-public note"
    )
    async with in_transaction():
        if await Boost.exists(account=actor, note=note) or await Boost.exists(uri=activity.id):
            return
        await Boost.create(account=actor, note=note, uri=activity.id)
        await Note.filter(id=note.id).update(boosts_count=F("boosts_count") + 1)
        await notify(note.account_id, NotificationKind.BOOST, actor, note)  # type: ignore[attr-defined]
