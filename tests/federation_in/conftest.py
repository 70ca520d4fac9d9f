"""Fixtures for inbound federation: fake remote instances and a 'no state change' snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from tortoise import Tortoise

from redfed.activitypub import uris
from redfed.federation.keys import generate_rsa_keypair
from redfed.models import Account
from tests.support.fediverse import FakeInstance

LOCAL_KEYS = generate_rsa_keypair()


@pytest.fixture
async def fediverse() -> AsyncIterator[Callable[[], Awaitable[FakeInstance]]]:
    started: list[FakeInstance] = []

    async def start() -> FakeInstance:
        instance = await FakeInstance().start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        await instance.close()


@pytest.fixture
async def remote(fediverse: Callable[[], Awaitable[FakeInstance]]) -> FakeInstance:
    return await fediverse()


async def make_local(settings: Any, username: str = "alice", *, locked: bool = False) -> Account:
    uri = uris.actor_uri(settings.base_url, username)
    return await Account.create(
        username=username,
        domain=None,
        uri=uri,
        inbox_uri=uris.inbox_uri(uri),
        followers_uri=uris.followers_uri(uri),
        public_key_id=uris.key_id(uri),
        public_key_pem=LOCAL_KEYS[1],
        private_key_pem=LOCAL_KEYS[0],
        locked=locked,
    )


@pytest.fixture
async def alice(app: Any, settings: Any) -> Account:
    """A local account; the instance actor (which signs our fetches) exists from the start."""
    from redfed.services.delivery import ensure_instance_actor

    await ensure_instance_actor(settings)
    return await make_local(settings, "alice")


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (sorted): compare before/after for 'no state change'.

    The stored `inbox` job itself is left out: keeping a received, verified activity is how the
    inbox works; what it must not do is change anything else. Likewise an actor's `fetched_at`
    (a refreshed cache of its public document, SIG-17) is not a change made by the sender."""
    state: dict[str, list[dict[str, Any]]] = {}
    for model in Tortoise.apps["models"].values():
        rows = [dict(r) for r in await model.all().values()]
        if model._meta.db_table == "jobs":
            rows = [r for r in rows if r["kind"] != "inbox"]
        if model._meta.db_table == "accounts":
            rows = [
                {k: v for k, v in r.items() if k not in ("fetched_at", "updated_at")} for r in rows
            ]
        state[model._meta.db_table] = sorted(rows, key=repr)
    return state


async def warm(runtime: Any, *actors: Any) -> None:
    """Store remote actors (and their keys) as a first contact would."""
    from redfed.services.remote_accounts import fetch_remote_actor

    for actor in actors:
        await fetch_remote_actor(runtime, actor.uri)
