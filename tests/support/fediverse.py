"""The fake fediverse: real aiohttp servers on 127.0.0.1 playing remote instances.

Each FakeInstance (domain `127.0.0.1:<port>`) has actors with real RSA keys, serves their actor
documents, WebFinger and any stored object, records every request it receives, and sends
really signed activities into our app (through the Quart test client or over real HTTP).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from redfed.federation.keys import generate_rsa_keypair
from redfed.federation.signatures import sign_request

AP_TYPE = "application/activity+json"
AS_CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
_KEYS: list[tuple[str, str]] = []  # RSA generation is slow: a small pool shared by all actors
_POOL = 6
_next_key = [0]


def _keypair(index: int) -> tuple[str, str]:
    while len(_KEYS) <= index:
        _KEYS.append(generate_rsa_keypair())
    return _KEYS[index]


@dataclass
class FakeActor:
    instance: FakeInstance
    username: str
    private_pem: str
    public_pem: str
    locked: bool = False
    key_style: str = "mastodon"  # or "gotosocial": keyId is a separate key document
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return self.instance.url(f"/users/{self.username}")

    @property
    def key_id(self) -> str:
        return f"{self.uri}/main-key" if self.key_style == "gotosocial" else f"{self.uri}#main-key"

    @property
    def followers(self) -> str:
        return f"{self.uri}/followers"

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.instance.domain}"

    def document(self) -> dict[str, Any]:
        doc = {
            "@context": AS_CONTEXT,
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.username,
            "name": self.username.title(),
            "summary": "<p>hello</p>",
            "url": self.instance.url(f"/@{self.username}"),
            "inbox": f"{self.uri}/inbox",
            "outbox": f"{self.uri}/outbox",
            "followers": self.followers,
            "following": f"{self.uri}/following",
            "manuallyApprovesFollowers": self.locked,
            "endpoints": {"sharedInbox": self.instance.url("/inbox")},
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": self.public_pem},
        }
        doc.update(self.extra)
        return doc

    def rotate_key(self) -> None:
        key_index, _next_key[0] = _next_key[0], _next_key[0] + 1
        self.private_pem, self.public_pem = _keypair(key_index % _POOL)


class FakeInstance:
    """One remote server. `requests` holds (method, path_qs, headers, body) of every hit."""

    def __init__(self) -> None:
        self.actors: dict[str, FakeActor] = {}
        self.objects: dict[str, Any] = {}  # path -> document
        self.statuses: dict[str, int] = {}  # path -> forced status
        self.delays: dict[str, float] = {}  # path -> seconds before answering (a slow server)
        self.files: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, content type), e.g. photos
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.server: TestServer | None = None
        self._counter = 0

    async def start(self) -> FakeInstance:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def domain(self) -> str:
        assert self.server is not None and self.server.port is not None
        return f"127.0.0.1:{self.server.port}"

    def url(self, path: str) -> str:
        return f"http://{self.domain}{path}"

    def add_actor(
        self,
        username: str,
        *,
        locked: bool = False,
        key_style: str = "mastodon",
        key_index: int | None = None,
    ) -> FakeActor:
        if key_index is None:
            key_index, _next_key[0] = _next_key[0], _next_key[0] + 1
        private, public = _keypair(key_index % _POOL)
        actor = FakeActor(self, username, private, public, locked=locked, key_style=key_style)
        self.actors[username] = actor
        return actor

    def new_id(self, actor: FakeActor, kind: str) -> str:
        self._counter += 1
        return f"{actor.uri}/{kind}/{self._counter}-{uuid.uuid4().hex[:6]}"

    # ------------------------------------------------------------ documents (Mastodon shapes)

    def note(
        self,
        actor: FakeActor,
        content: str = "<p>hello</p>",
        *,
        public: bool = True,
        store: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        uri = self.new_id(actor, "statuses")
        to, cc = ([PUBLIC], [actor.followers]) if public else ([actor.followers], [])
        doc = {
            "@context": AS_CONTEXT,
            "id": uri,
            "type": "Note",
            "attributedTo": actor.uri,
            "content": content,
            "to": to,
            "cc": cc,
            "url": uri,
            "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sensitive": False,
        }
        doc.update(extra)
        if store:
            self.put(doc)
        return doc

    def activity(self, actor: FakeActor, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
        doc = {
            "@context": AS_CONTEXT,
            "id": self.new_id(actor, kind.lower()),
            "type": kind,
            "actor": actor.uri,
            "object": obj,
        }
        doc.update(extra)
        return doc

    def put(self, doc: dict[str, Any]) -> None:
        """Serve `doc` at the path of its id."""
        self.objects[doc["id"].split(self.domain, 1)[1]] = doc

    def signed_headers(
        self, actor: FakeActor, method: str, url: str, body: bytes | None
    ) -> dict[str, str]:
        return sign_request(
            method,
            url,
            body=body,
            key_id=actor.key_id,
            private_key_pem=actor.private_pem,
            headers={"Content-Type": AP_TYPE} if body is not None else {},
        )

    async def post(
        self,
        client: Any,
        actor: FakeActor,
        path: str,
        activity: dict[str, Any],
        *,
        host: str = "redfed.test",
    ) -> Any:
        """POST `activity` signed by `actor` through a Quart test client reached as `host`."""
        body = json.dumps(activity).encode()
        headers = self.signed_headers(actor, "POST", f"https://{host}{path}", body)
        return await client.post(path, data=body, headers=headers)

    async def post_live(
        self, base_url: str, actor: FakeActor, path: str, activity: dict[str, Any]
    ) -> int:
        """POST over real HTTP to a served app at `base_url` (http://127.0.0.1:port)."""
        body = json.dumps(activity).encode()
        headers = self.signed_headers(actor, "POST", f"{base_url}{path}", body)
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base_url}{path}", data=body, headers=headers) as response:
                return response.status

    # ------------------------------------------------------------ serving

    def hits(self, path: str, method: str = "GET") -> int:
        return sum(1 for m, p, _h, _b in self.requests if m == method and p.split("?")[0] == path)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append((request.method, request.path_qs, dict(request.headers), body))
        if request.path in self.delays:
            await asyncio.sleep(self.delays[request.path])
        if request.path in self.statuses:
            return web.Response(status=self.statuses[request.path], text="forced")
        if request.method == "POST":
            return web.Response(status=202)
        if request.path in self.files:
            data, content_type = self.files[request.path]
            return web.Response(body=data, content_type=content_type)
        if request.path == "/.well-known/webfinger":
            return self._webfinger(request.query.get("resource", ""))
        doc = self._document(request.path)
        if doc is None:
            return web.Response(status=404, text="not found")
        return web.json_response(doc, content_type=AP_TYPE)

    def _document(self, path: str) -> dict[str, Any] | None:
        parts = path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "users" and parts[1] in self.actors:
            actor = self.actors[parts[1]]
            if len(parts) == 2:
                return actor.document()
            if parts[2:] == ["main-key"] and actor.key_style == "gotosocial":
                return {
                    "@context": AS_CONTEXT,
                    "id": actor.key_id,
                    "owner": actor.uri,
                    "publicKeyPem": actor.public_pem,
                }
        found = self.objects.get(path)
        return found if isinstance(found, dict) else None

    def _webfinger(self, resource: str) -> web.StreamResponse:
        name = resource.removeprefix("acct:").split("@", 1)[0]
        actor = self.actors.get(name)
        if actor is None or resource != f"acct:{actor.handle}":
            return web.Response(status=404)
        jrd = {
            "subject": f"acct:{actor.handle}",
            "links": [{"rel": "self", "type": AP_TYPE, "href": actor.uri}],
        }
        return web.json_response(jrd, content_type="application/jrd+json")
