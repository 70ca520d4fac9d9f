"""Server-side login sessions: the cookie holds a random token, the database only its SHA-256.

Each session has its own CSRF token. A new session (new token) is made at every login
(WEB-02); logout deletes the row; a password change deletes every other session (WEB-05).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from redfed.models import Session, User

SESSION_LIFETIME = timedelta(days=30)
# Refresh `last_seen_at` (a database write) at most this often per session.
_TOUCH_EVERY = timedelta(minutes=10)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def create_session(user: User, *, user_agent: str = "") -> tuple[str, Session]:
    """A new session for `user`; returns (cookie token, row). The token is never stored."""
    token = secrets.token_urlsafe(32)
    session = await Session.create(
        token_hash=token_hash(token),
        user=user,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=_utcnow() + SESSION_LIFETIME,
        user_agent=user_agent[:255],
    )
    return token, session


async def load_session(token: str) -> Session | None:
    """The live session for a cookie token, with its user and account loaded; None if unknown,
    expired, or the user may no longer log in (disabled, unapproved, suspended)."""
    if not token or len(token) > 128:
        return None
    # One statement on every page: the user and account joined in, not read one by one.
    session = await Session.get_or_none(token_hash=token_hash(token)).select_related(
        "user", "user__account"
    )
    if session is None:
        return None
    now = _utcnow()
    user: User = session.user
    if session.expires_at <= now or user.disabled or not user.approved:
        await session.delete()
        return None
    if user.account.suspended_at is not None:
        return None
    if now - session.last_seen_at > _TOUCH_EVERY:
        session.last_seen_at = now
        await session.save(update_fields=["last_seen_at"])
    return session


async def delete_session(token: str) -> None:
    await Session.filter(token_hash=token_hash(token)).delete()


async def revoke_user_sessions(user: User, *, keep_token_hash: str | None = None) -> int:
    """Delete every session of `user` except the one kept; returns how many were deleted."""
    query = Session.filter(user_id=user.id)
    if keep_token_hash is not None:
        query = query.exclude(token_hash=keep_token_hash)
    return await query.delete()


async def purge_expired_sessions() -> int:
    return await Session.filter(expires_at__lte=_utcnow()).delete()
