"""Password hashing (argon2id via argon2-cffi) and password rules.

Hashing runs in a thread: one hash costs ~45 ms of CPU, which would stall every other request
if it ran on the event loop (WEB-03).
"""

from __future__ import annotations

import asyncio
import functools
import logging

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from redfed.config import Settings
from redfed.errors import ValidationError

log = logging.getLogger(__name__)

MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this bounds the work a request can ask for

# OWASP's baseline for argon2id (19 MiB, 2 passes, 1 lane): ~45 ms on a small server core.
# Stored hashes carry their own parameters; changing these makes `needs_rehash` true, and the
# next successful login upgrades the hash.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user is unknown, so "no such user" takes as long as
    "wrong password" and timing does not reveal which names exist. Made on first use, not at
    import (hashing costs ~45 ms of CPU)."""
    return HASHER.hash("redfed-dummy-password")


def check_password_rules(settings: Settings, password: str, *, field: str = "password") -> None:
    """Raise ValidationError when the password is too short or too long."""
    minimum = settings.registration.min_password_length
    if len(password) < minimum:
        # No number in the message: it is looked up in the UI catalogue as it is.
        raise ValidationError("The password is too short.", field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError("The password is too long.", field=field)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except VerificationError:
        return False
    except InvalidHashError:
        log.warning("password.invalid_hash")
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash (unknown user) verifies a dummy and says False."""
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]  # still spend the time, never match
        password_hash = None
    ok = await asyncio.to_thread(_verify, password_hash or _dummy_hash(), password)
    return ok and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
