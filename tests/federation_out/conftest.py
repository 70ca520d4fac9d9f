"""Fixtures for outbound federation: the app with its HTTP client pointed at a loopback sink
(every remote host name resolves to 127.0.0.1), and small row builders for accounts and notes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from redfed.activitypub import uris
from redfed.federation.http import SafeHttpClient
from redfed.federation.keys import generate_rsa_keypair
from redfed.models import Account, Follow, FollowState, Note, Visibility
from redfed.runtime import Runtime
from tests.support.sink import LoopbackDns, Sink

BASE = "https://redfed.test"


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    return generate_rsa_keypair()


@pytest.fixture
def dns() -> LoopbackDns:
    return LoopbackDns()


@pytest.fixture
async def sink(runtime: Runtime, dns: LoopbackDns) -> AsyncIterator[Sink]:
    """A started sink; the app's runtime now sends through a client whose DNS points at it."""
    server = await Sink().start()
    original = runtime.http
    async with SafeHttpClient(
        allow_private_addresses=True, user_agent="redfed-test", dns_backend=dns
    ) as http:
        runtime.http = http
        yield server
        runtime.http = original
    await server.stop()


class Rows:
    def __init__(self, keypair: tuple[str, str], sink: Sink | None) -> None:
        self.private_pem, self.public_pem = keypair
        self.sink = sink

    async def local(self, username: str, **kw: Any) -> Account:
        actor = uris.actor_uri(BASE, username)
        return await Account.create(
            username=username,
            domain=None,
            uri=actor,
            url=uris.profile_url(BASE, username),
            inbox_uri=uris.inbox_uri(actor),
            shared_inbox_uri=uris.shared_inbox_uri(BASE),
            followers_uri=uris.followers_uri(actor),
            public_key_id=uris.key_id(actor),
            public_key_pem=self.public_pem,
            private_key_pem=self.private_pem,
            **kw,
        )

    async def remote(
        self, username: str, domain: str, *, shared: bool = True, **kw: Any
    ) -> Account:
        assert self.sink is not None
        actor = self.sink.url(domain, f"/users/{username}")
        return await Account.create(
            username=username,
            domain=domain,
            uri=actor,
            inbox_uri=f"{actor}/inbox",
            shared_inbox_uri=self.sink.url(domain, "/inbox") if shared else "",
            followers_uri=f"{actor}/followers",
            **kw,
        )

    async def follow(self, follower: Account, followee: Account, accepted: bool = True) -> Follow:
        state = FollowState.ACCEPTED if accepted else FollowState.PENDING
        return await Follow.create(
            follower=follower,
            followee=followee,
            state=state,
            uri=f"{follower.uri}#follows/{follower.id}-{followee.id}",
        )

    async def note(
        self, author: Account, visibility: Visibility = Visibility.PUBLIC, **kw: Any
    ) -> Note:
        note = Note(
            account=author,
            visibility=visibility,
            published_at=datetime.now(UTC),
            content_html="<p>hello</p>",
            **kw,
        )
        note.uri = uris.note_uri(author.uri, note.id)
        note.url = uris.note_url(BASE, author.username, note.id)
        await note.save()
        return note


@pytest.fixture
def rows(keypair: tuple[str, str], request: pytest.FixtureRequest) -> Rows:
    sink = request.getfixturevalue("sink") if "sink" in request.fixturenames else None
    return Rows(keypair, sink)
