"""Sign-up by registration mode (open, approval, invite, closed), invites and the approval queue."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from redfed.config import Settings
from redfed.errors import Forbidden, NotFound, ValidationError
from redfed.models import Account, Invite, User
from redfed.services.accounts import create_local_account

log = logging.getLogger(__name__)

# Offered as one-click choices at sign-up; people may add their own.
SUGGESTED_INTERESTS = (
    "travel",
    "food",
    "photography",
    "fashion",
    "beauty",
    "fitness",
    "home",
    "books",
    "pets",
    "outdoors",
    "cooking",
    "art",
)


@dataclass(frozen=True)
class SignUp:
    username: str
    password: str
    email: str | None = None
    interests: tuple[str, ...] = ()
    locale: str = ""
    invite_code: str = ""
    reason: str = ""
    languages: tuple[str, ...] = field(default=())


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _usable_invites() -> Q:
    return Q(uses__lt=F("max_uses")) & (Q(expires_at__isnull=True) | Q(expires_at__gt=_utcnow()))


async def register_local_account(settings: Settings, form: SignUp) -> Account:
    """Create an account as the registration mode allows. In approval mode the account exists
    but cannot log in until approved. Raises Forbidden (closed, bad invite) or ValidationError."""
    mode = settings.registration.mode
    if mode == "closed":
        raise Forbidden("Sign-ups are closed on this server.")
    approved = mode != "approval"
    if mode != "invite":
        return await _create(settings, form, approved=approved)
    code = form.invite_code.strip()
    async with in_transaction():
        # Consume first, atomically: two people racing for the last use cannot both win, and a
        # failed creation rolls the use back with the transaction.
        used = await Invite.filter(_usable_invites(), code=code).update(uses=F("uses") + 1)
        if not code or used != 1:
            raise ValidationError("This invite code is not valid.", field="invite_code")
        return await _create(settings, form, approved=approved)


async def _create(settings: Settings, form: SignUp, *, approved: bool) -> Account:
    return await create_local_account(
        settings,
        form.username,
        form.password,
        email=form.email,
        approved=approved,
        locale=form.locale if form.locale in settings.ui.languages else "",
        interests=form.interests,
        languages=form.languages,
        signup_reason=form.reason,
    )


async def invite_is_valid(code: str) -> bool:
    return bool(code) and await Invite.filter(_usable_invites(), code=code).exists()


async def create_invite(
    creator: User, *, max_uses: int = 1, expires_in: timedelta | None = timedelta(days=7)
) -> Invite:
    if not 1 <= max_uses <= 1000:
        raise ValidationError("An invite may be used 1 to 1000 times.", field="max_uses")
    expires_at = _utcnow() + expires_in if expires_in is not None else None
    invite = await Invite.create(
        code=secrets.token_urlsafe(12), created_by=creator, max_uses=max_uses, expires_at=expires_at
    )
    log.info("invite.created by=%s max_uses=%d", creator.id, max_uses)
    return invite


async def list_invites() -> list[Invite]:
    return await Invite.filter(_usable_invites()).order_by("-id").limit(200)


async def revoke_invite(invite_id: int) -> None:
    await Invite.filter(id=invite_id).delete()


async def pending_users() -> list[User]:
    return await User.filter(approved=False).order_by("id").limit(200).prefetch_related("account")


async def approve_user(user_id: int) -> User:
    user = await User.get_or_none(id=user_id, approved=False)
    if user is None:
        raise NotFound("No such pending sign-up.")
    user.approved = True
    await user.save(update_fields=["approved"])
    log.info("signup.approved user_id=%s", user_id)
    return user


async def reject_user(user_id: int) -> None:
    """Remove a pending sign-up entirely (it never federated, so nothing to tell anyone)."""
    user = await User.get_or_none(id=user_id, approved=False)
    if user is None:
        raise NotFound("No such pending sign-up.")
    await Account.filter(id=user.account_id).delete()  # type: ignore[attr-defined]
    log.info("signup.rejected user_id=%s", user_id)
