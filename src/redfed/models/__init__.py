"""Tortoise models only: fields, constraints, tiny computed properties. No network, no AS2."""

from redfed.models.accounts import Account
from redfed.models.feed import (
    AuthorEngagement,
    FeedConfig,
    FeedEvent,
    InterestWeight,
    NoteNeighbour,
    TrendingNote,
)
from redfed.models.interactions import (
    Block,
    Boost,
    Collect,
    Follow,
    FollowState,
    Like,
    Mute,
    Notification,
    NotificationKind,
)
from redfed.models.jobs import DomainHealth, Job, JobState
from redfed.models.media import MediaAttachment
from redfed.models.moderation import DomainBlock, DomainSeverity
from redfed.models.notes import Mention, Note, NoteEdit, NoteTag, Tag, Tombstone, Visibility
from redfed.models.translation import TranslationCache
from redfed.models.users import Invite, Session, User

__all__ = [
    "Account",
    "AuthorEngagement",
    "Block",
    "Boost",
    "Collect",
    "DomainBlock",
    "DomainHealth",
    "DomainSeverity",
    "FeedConfig",
    "FeedEvent",
    "Follow",
    "FollowState",
    "InterestWeight",
    "Invite",
    "Job",
    "JobState",
    "Like",
    "MediaAttachment",
    "Mention",
    "Mute",
    "Note",
    "NoteEdit",
    "NoteNeighbour",
    "NoteTag",
    "Notification",
    "NotificationKind",
    "Session",
    "Tag",
    "Tombstone",
    "TranslationCache",
    "TrendingNote",
    "User",
    "Visibility",
]
