"""Read side: Explore (newest), Following, profile, tag and collection listings, comment
threads and search. Every listing starts from `visibility.visible_notes_query`; pages are
40 notes, newest first, continued with `max_id` (ids are time-sortable).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from redfed.content.hashtags import normalize_tag
from redfed.models import Account, Collect, Follow, FollowState, Note, NoteTag, Tag
from redfed.services.visibility import hidden_account_ids, visible_notes_query

PAGE_SIZE = 40
_TOP_LEVEL = Q(in_reply_to_id__isnull=True, in_reply_to_uri="")


async def _page(query: QuerySet[Note], max_id: int | None) -> list[Note]:
    if max_id is not None:
        query = query.filter(id__lt=max_id)
    return list(await query.order_by("-id").limit(PAGE_SIZE).prefetch_related("account", "media"))


async def explore_newest(viewer: Account | None, *, max_id: int | None = None) -> list[Note]:
    """Public top-level notes of discoverable authors, newest first."""
    query = await visible_notes_query(viewer, public_listing=True)
    return await _page(query.filter(_TOP_LEVEL, account__discoverable=True), max_id)


async def following(viewer: Account, *, max_id: int | None = None) -> list[Note]:
    """Top-level notes of accepted follows, and the viewer's own."""
    followed = Follow.filter(follower_id=viewer.id, state=FollowState.ACCEPTED).values(
        "followee_id"
    )
    query = await visible_notes_query(viewer)
    query = query.filter(_TOP_LEVEL).filter(
        Q(account_id=viewer.id) | Q(account_id__in=Subquery(followed))
    )
    return await _page(query, max_id)


async def profile_notes(
    viewer: Account | None, account: Account, *, max_id: int | None = None
) -> list[Note]:
    query = await visible_notes_query(viewer)
    return await _page(query.filter(_TOP_LEVEL, account_id=account.id), max_id)


async def collected_notes(owner: Account, *, max_id: int | None = None) -> list[Note]:
    """The owner's collects (private), newest first; notes they can no longer see drop out."""
    query = Collect.filter(account_id=owner.id)
    if max_id is not None:
        query = query.filter(id__lt=max_id)
    collects = await query.order_by("-id").limit(PAGE_SIZE).values_list("note_id", flat=True)
    visible = await visible_notes_query(owner)
    notes = {
        n.id: n
        for n in await visible.filter(id__in=list(collects)).prefetch_related("account", "media")
    }
    return [notes[i] for i in collects if i in notes]


async def tag_notes(viewer: Account | None, tag: str, *, max_id: int | None = None) -> list[Note]:
    name = normalize_tag(tag)
    if name is None:
        return []
    tagged = NoteTag.filter(tag__name=name).values("note_id")
    query = await visible_notes_query(viewer, public_listing=True)
    return await _page(query.filter(_TOP_LEVEL, id__in=Subquery(tagged)), max_id)


@dataclass
class CommentNode:
    note: Note
    replies: list[Note] = field(default_factory=list)


async def thread(viewer: Account | None, root: Note) -> list[CommentNode]:
    """Comments of a note, oldest first: top-level comments, each with every reply below it
    flattened one level (RedNote style). Comments the viewer may not see are left out, and so
    are replies whose top-level comment is hidden."""
    query = await visible_notes_query(viewer)
    comments = list(
        await query.filter(root_id=root.id).order_by("id").limit(1000).prefetch_related("account")
    )
    by_id = {c.id: c for c in comments}
    nodes: dict[int, CommentNode] = {}
    for comment in comments:
        parent_id = comment.in_reply_to_id  # type: ignore[attr-defined]
        if parent_id == root.id:
            nodes[comment.id] = CommentNode(comment)
            continue
        top = _top_comment(comment, by_id, root.id)
        if top is not None and top in nodes:
            nodes[top].replies.append(comment)
    return list(nodes.values())


def _top_comment(comment: Note, by_id: dict[int, Note], root_id: int) -> int | None:
    current = comment
    for _ in range(100):  # deep chains are cut off rather than looped forever
        parent_id = current.in_reply_to_id  # type: ignore[attr-defined]
        if parent_id == root_id:
            return int(current.id)
        if parent_id not in by_id:
            return None
        current = by_id[parent_id]
    return None


async def search_accounts(viewer: Account | None, text: str, *, limit: int = 20) -> list[Account]:
    text = text.strip().lstrip("@")
    if not text:
        return []
    query = Account.filter(
        Q(username__icontains=text) | Q(display_name__icontains=text),
        suspended_at__isnull=True,
        discoverable=True,
        gone_at__isnull=True,
    )
    hidden = await hidden_account_ids(viewer)
    if hidden:
        query = query.exclude(id__in=hidden)
    return list(await query.order_by("-followers_count", "id").limit(limit))


async def search_notes(
    viewer: Account | None, text: str, *, max_id: int | None = None
) -> list[Note]:
    """Public notes whose title contains the words, or tagged with `#tag` when it starts with #."""
    text = text.strip()
    if not text:
        return []
    query = (await visible_notes_query(viewer, public_listing=True)).filter(_TOP_LEVEL)
    tag = normalize_tag(text) if text.startswith(("#", "＃")) else None
    if tag is not None:
        tagged = NoteTag.filter(tag__name=tag).values("note_id")
        return await _page(query.filter(id__in=Subquery(tagged)), max_id)
    named = await Tag.filter(name=normalize_tag(text) or "").values_list("id", flat=True)
    condition = Q(title__icontains=text)
    if named:
        condition |= Q(id__in=Subquery(NoteTag.filter(tag_id__in=list(named)).values("note_id")))
    return await _page(query.filter(condition), max_id)
