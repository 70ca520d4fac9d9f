"""Local accounts: creation (names, keys, URIs), log-in checks, passwords, disabling, first admin.

An Account is any actor; a local one has a User (its login). Remote accounts are made by the
federation side, never here.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from redfed.activitypub import uris
from redfed.config import Settings
from redfed.content.hashtags import normalize_tags
from redfed.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError
from redfed.federation.keys import generate_rsa_keypair
from redfed.models import Account, User
from redfed.services import passwords, sessions
from redfed.services.feed.signals import feed_settings, seed_from_signup

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# Names that would collide with routes, well-known actors or impersonate the instance.
RESERVED_USERNAMES = frozenset(
    """admin administrator api about abuse inbox outbox users user static media tags tag
    explore following followers featured notes note search settings login logout signup
    register auth oauth well_known nodeinfo webfinger root postmaster hostmaster webmaster
    security support help instance actor system redfed moderator mod null undefined
    notifications compose health healthz""".split()
)
FIRST_ADMIN_NAME = "admin"


def normalize_username(raw: str, *, allow_reserved: bool = False) -> str:
    """The stored (lower-case) form of a new local username; raises ValidationError."""
    name = raw.strip().lower()
    if not USERNAME_RE.fullmatch(name):
        raise ValidationError(
            "Usernames have 1 to 30 characters: letters a–z, digits and _.", field="username"
        )
    if name in RESERVED_USERNAMES and not allow_reserved:
        raise ValidationError("This username is reserved.", field="username")
    return name


def normalize_email(raw: str | None) -> str | None:
    email = (raw or "").strip().lower()
    if not email:
        return None
    if len(email) > 254 or not EMAIL_RE.fullmatch(email):
        raise ValidationError("This does not look like an email address.", field="email")
    return email


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, ~120 bits


def _local_uris(settings: Settings, name: str) -> dict[str, Any]:
    base = settings.base_url
    actor = uris.actor_uri(base, name)
    return {
        "uri": actor,
        "url": uris.profile_url(base, name),
        "inbox_uri": uris.inbox_uri(actor),
        "outbox_uri": uris.outbox_uri(actor),
        "followers_uri": uris.followers_uri(actor),
        "following_uri": uris.following_uri(actor),
        "featured_uri": uris.featured_uri(actor),
        "shared_inbox_uri": uris.shared_inbox_uri(base),
        "public_key_id": uris.key_id(actor),
    }


async def create_local_account(
    settings: Settings,
    username: str,
    password: str,
    *,
    email: str | None = None,
    admin: bool = False,
    approved: bool = True,
    locked: bool = False,
    locale: str = "",
    interests: Sequence[str] = (),
    languages: Sequence[str] = (),
    signup_reason: str = "",
    allow_reserved: bool = False,
) -> Account:
    """Create a local Account with its User, key pair and URIs. Returns the Account with
    `account.user` loaded. Raises ValidationError (bad input) or Conflict (name/email taken).
    `allow_reserved` is for the instance itself (the first `admin`), never for sign-ups."""
    name = normalize_username(username, allow_reserved=allow_reserved)
    email = normalize_email(email)
    passwords.check_password_rules(settings, password)
    if await Account.filter(username=name, domain=None).exists():
        raise Conflict("This username is taken.")
    if email is not None and await User.filter(email=email).exists():
        raise Conflict("This email address is already used.")
    private_pem, public_pem = await asyncio.to_thread(generate_rsa_keypair)
    password_hash = await passwords.hash_password(password)
    try:
        async with in_transaction():
            account = await Account.create(
                username=name,
                domain=None,
                locked=locked,
                interests=normalize_tags(interests),
                languages=list(dict.fromkeys(languages)),
                public_key_pem=public_pem,
                private_key_pem=private_pem,
                **_local_uris(settings, name),
            )
            await User.create(
                account=account,
                email=email,
                password_hash=password_hash,
                is_admin=admin,
                approved=approved,
                locale=locale,
                signup_reason=signup_reason[:2000],
            )
    except IntegrityError:
        # `uri` is unique and derived from the lower-case name, so a concurrent sign-up with
        # the same name lands here even though (username, NULL domain) is not a unique key.
        raise Conflict("This username or email address is taken.") from None
    await account.fetch_related("user")  # the reverse one-to-one, loaded for the caller
    await seed_from_signup(account, await feed_settings(settings))  # Explore's cold start
    log.info("account.created username=%s admin=%s approved=%s", name, admin, approved)
    return account


async def get_local_user(username: str) -> User | None:
    """The User of a local username (any case), with its account loaded."""
    name = username.strip().lower()
    if not USERNAME_RE.fullmatch(name):
        return None
    return await User.get_or_none(account__username=name, account__domain=None).prefetch_related(
        "account"
    )


async def authenticate(username: str, password: str) -> User:
    """Check a log-in. Wrong name and wrong password are one error and take the same time.
    Only after a correct password does the person learn that the account is pending or disabled."""
    user = await get_local_user(username)
    if not await passwords.verify_password(user.password_hash if user else None, password):
        raise Unauthorized("Wrong username or password.")
    assert user is not None
    if not user.approved:
        raise Forbidden("Your account is waiting for approval by an administrator.")
    if user.disabled or user.account.suspended_at is not None:
        raise Forbidden("This account is disabled.")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(password)
        log.info("password.rehashed user_id=%s", user.id)
    user.last_login_at = datetime.now(UTC)
    await user.save(update_fields=["password_hash", "last_login_at"])
    return user


async def set_password(settings: Settings, user: User, new_password: str) -> None:
    """Set a new password (admin or CLI) and end every session of the user."""
    passwords.check_password_rules(settings, new_password)
    user.password_hash = await passwords.hash_password(new_password)
    await user.save(update_fields=["password_hash"])
    await sessions.revoke_user_sessions(user)


async def change_password(
    settings: Settings, user: User, current: str, new: str, *, keep_token_hash: str | None
) -> None:
    """The person's own change: needs the current password; ends all other sessions (WEB-05)."""
    if not await passwords.verify_password(user.password_hash, current):
        raise ValidationError("The current password is wrong.", field="current_password")
    passwords.check_password_rules(settings, new, field="new_password")
    user.password_hash = await passwords.hash_password(new)
    await user.save(update_fields=["password_hash"])
    revoked = await sessions.revoke_user_sessions(user, keep_token_hash=keep_token_hash)
    log.info("password.changed user_id=%s sessions_revoked=%d", user.id, revoked)


async def set_disabled(username: str, disabled: bool) -> User:
    """Disable (log out everywhere, refuse log-ins) or enable a local user."""
    user = await get_local_user(username)
    if user is None:
        raise NotFound("No such local user.")
    user.disabled = disabled
    await user.save(update_fields=["disabled"])
    if disabled:
        await sessions.revoke_user_sessions(user)
    log.info("account.disabled username=%s disabled=%s", user.account.username, disabled)
    return user


async def list_local_users(*, limit: int = 200, offset: int = 0) -> list[User]:
    return await User.all().order_by("id").offset(offset).limit(limit).prefetch_related("account")


async def ensure_first_admin(settings: Settings) -> tuple[str, str] | None:
    """Create the `admin` account with a generated password when no admin exists yet.
    Returns (name, password) to show once, or None. Tortoise is initialised by the caller."""
    if await User.filter(is_admin=True).exists():
        return None
    name = FIRST_ADMIN_NAME
    if await Account.filter(username=name, domain=None).exists():
        name = f"admin_{secrets.token_hex(3)}"
    password = generate_password()
    # Names in RESERVED_USERNAMES are refused to people, not to the instance itself.
    await create_local_account(settings, name, password, admin=True, allow_reserved=True)
    return name, password
