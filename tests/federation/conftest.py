"""Fixtures for the federation network layer: a real aiohttp server on 127.0.0.1 playing a
remote peer (it counts every request it receives) and a fake DNS answer source."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from redfed.federation.http import SafeHttpClient
from redfed.federation.keys import generate_rsa_keypair

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AP_TYPE = "application/activity+json"


class FakeRemote:
    """A remote server: `on(path, handler)` or `on_json(path, doc)`; `requests` records hits."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.server: TestServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None and self.server.port is not None
        return self.server.port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def on(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def on_json(
        self, path: str, doc: Any, *, content_type: str = AP_TYPE, status: int = 200
    ) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.json_response(doc, status=status, content_type=content_type)

        self.on(path, handler)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": location})

        self.on(path, handler)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append((request.method, request.path_qs, dict(request.headers), body))
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no route")
        return await handler(request)


async def _start_remote() -> FakeRemote:
    remote = FakeRemote()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", remote._dispatch)
    remote.server = TestServer(app, host="127.0.0.1")
    await remote.server.start_server()
    return remote


@pytest.fixture
async def remote() -> AsyncIterator[FakeRemote]:
    server = await _start_remote()
    yield server
    assert server.server is not None
    await server.server.close()


@pytest.fixture
async def other_remote() -> AsyncIterator[FakeRemote]:
    server = await _start_remote()
    yield server
    assert server.server is not None
    await server.server.close()


class FakeDns(AbstractResolver):
    """A DNS answer source: each host has a list of answers, consumed one per lookup (the last
    one repeats), so a test can play DNS rebinding. Records every lookup."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        queue = self.answers.get(host)
        if not queue:
            raise OSError(f"NXDOMAIN {host}")
        ips = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=port,
                family=socket.AF_INET6 if ":" in ip else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for ip in ips
        ]

    async def close(self) -> None:
        return None


@pytest.fixture
async def client() -> AsyncIterator[SafeHttpClient]:
    """Loopback allowed: for the happy paths against the test server."""
    async with SafeHttpClient(allow_private_addresses=True, user_agent="redfed-test/1") as c:
        yield c


@pytest.fixture
def make_dns() -> type[FakeDns]:
    return FakeDns


@pytest.fixture
def fake_dns() -> FakeDns:
    return FakeDns({})


@pytest.fixture
async def strict_client(fake_dns: FakeDns) -> AsyncIterator[SafeHttpClient]:
    """The production setting (private addresses refused), with DNS answered by `fake_dns`."""
    async with SafeHttpClient(
        allow_private_addresses=False, user_agent="redfed-test/1", dns_backend=fake_dns
    ) as c:
        yield c


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    return generate_rsa_keypair()


@pytest.fixture(scope="session")
def other_rsa_keys() -> tuple[str, str]:
    return generate_rsa_keypair()
