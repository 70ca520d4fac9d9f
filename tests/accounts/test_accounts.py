"""Local accounts: names, keys, URIs, passwords (WEB-03) and the first admin."""

from __future__ import annotations

import asyncio

import pytest
from argon2 import PasswordHasher

from redfed.errors import Conflict, Forbidden, Unauthorized, ValidationError
from redfed.federation.keys import load_private_key, load_public_key
from redfed.models import Account, User
from redfed.services import accounts, passwords
from tests.support.accounts import TEST_PASSWORD


async def test_create_local_account_sets_keys_and_uris(settings, db) -> None:
    account = await accounts.create_local_account(
        settings, "Alice_1", TEST_PASSWORD, email="A@Example.org"
    )
    assert account.username == "alice_1" and account.domain is None
    base = "https://redfed.test"
    assert account.uri == f"{base}/users/alice_1"
    assert account.url == f"{base}/@alice_1"
    assert account.inbox_uri == f"{base}/users/alice_1/inbox"
    assert account.outbox_uri == f"{base}/users/alice_1/outbox"
    assert account.followers_uri.endswith("/followers") and account.following_uri.endswith(
        "/following"
    )
    assert account.shared_inbox_uri == f"{base}/inbox"
    assert account.public_key_id == f"{base}/users/alice_1#main-key"
    assert load_private_key(account.private_key_pem).key_size == 2048  # type: ignore[union-attr]
    load_public_key(account.public_key_pem)
    user = account.user
    assert user.email == "a@example.org" and not user.is_admin and user.approved
    assert user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash


@pytest.mark.parametrize("name", ["", "a" * 31, "bad-name", "名字", "a b", "admin", "API", "inbox"])
async def test_bad_or_reserved_usernames_refused(settings, db, name) -> None:
    with pytest.raises(ValidationError):
        await accounts.create_local_account(settings, name, TEST_PASSWORD)
    assert await Account.all().count() == 0


async def test_usernames_unique_case_insensitively(settings, db) -> None:
    await accounts.create_local_account(settings, "bob", TEST_PASSWORD, email="bob@example.org")
    with pytest.raises(Conflict):
        await accounts.create_local_account(settings, "BOB", TEST_PASSWORD)
    with pytest.raises(Conflict):
        await accounts.create_local_account(
            settings, "bob2", TEST_PASSWORD, email="BOB@example.org"
        )
    assert await Account.all().count() == 1


async def test_password_rules(settings, db) -> None:
    with pytest.raises(ValidationError):
        await accounts.create_local_account(settings, "carol", "short")
    with pytest.raises(ValidationError):
        await accounts.create_local_account(settings, "carol", "x" * 2000)
    assert await Account.all().count() == 0


async def test_authenticate_and_states(settings, db) -> None:
    account = await accounts.create_local_account(settings, "dave", TEST_PASSWORD)
    assert (await accounts.authenticate("DAVE", TEST_PASSWORD)).id == account.user.id
    with pytest.raises(Unauthorized):
        await accounts.authenticate("dave", "wrong password")
    with pytest.raises(Unauthorized):
        await accounts.authenticate("nobody", TEST_PASSWORD)
    await accounts.set_disabled("dave", True)
    with pytest.raises(Forbidden):
        await accounts.authenticate("dave", TEST_PASSWORD)
    await accounts.set_disabled("dave", False)
    await accounts.authenticate("dave", TEST_PASSWORD)


async def test_web03_rehash_on_login_when_parameters_change(settings, db) -> None:
    account = await accounts.create_local_account(settings, "erin", TEST_PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(TEST_PASSWORD)
    await User.filter(id=account.user.id).update(password_hash=weak)
    await accounts.authenticate("erin", TEST_PASSWORD)
    stored = (await User.get(id=account.user.id)).password_hash
    assert stored != weak and not passwords.needs_rehash(stored)
    assert "m=19456,t=2,p=1" in stored
    # A failed attempt never rewrites the hash.
    await User.filter(id=account.user.id).update(password_hash=weak)
    with pytest.raises(Unauthorized):
        await accounts.authenticate("erin", "wrong password")
    assert (await User.get(id=account.user.id)).password_hash == weak


async def test_web03_unknown_user_costs_a_full_verification(settings, db, monkeypatch) -> None:
    # Timing itself is not asserted (a loaded machine makes that flaky): what makes the two cases
    # cost the same is that both run exactly one argon2 verification, which we count here.
    await accounts.create_local_account(settings, "frank", TEST_PASSWORD)
    verified: list[str] = []
    real_verify = passwords._verify

    def counting_verify(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "_verify", counting_verify)
    for name in ("frank", "nobody_here"):
        with pytest.raises(Unauthorized):
            await accounts.authenticate(name, "wrong password")
    assert len(verified) == 2
    assert all(h.startswith("$argon2id$") for h in verified)


async def test_web03_hashing_runs_off_the_event_loop() -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.002)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    for _ in range(3):
        await passwords.hash_password("some password")
    stop.set()
    await task
    assert ticks >= 5  # the loop kept running while three hashes (~120 ms) were computed


async def test_ensure_first_admin(settings, db) -> None:
    created = await accounts.ensure_first_admin(settings)
    assert created is not None
    name, password = created
    assert name == "admin" and len(password) >= 16
    user = await accounts.authenticate("admin", password)
    assert user.is_admin
    assert await accounts.ensure_first_admin(settings) is None
    assert await User.filter(is_admin=True).count() == 1
