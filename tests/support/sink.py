"""A loopback HTTP sink playing remote inboxes: records every delivery and answers with chosen
statuses. One aiohttp server answers for any number of host names (routing by `Host`), with a
DNS answer source mapping those names to 127.0.0.1 so each remote "instance" is its own domain.
"""

from __future__ import annotations

import asyncio
import socket
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult


@dataclass(frozen=True)
class Delivery:
    host: str  # without the port
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int = 202
    headers: tuple[tuple[str, str], ...] = ()


class Sink:
    """`answer(host, path, *answers)` queues answers for that inbox (the last one repeats);
    `deliveries` lists every POST received; `delay` slows every answer (for FLT-07)."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.deliveries: list[Delivery] = []
        self.delay = delay
        self._answers: dict[tuple[str, str], deque[Answer]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self._waiters: list[tuple[int, asyncio.Event]] = []
        self.port = 0

    def reached(self, count: int) -> asyncio.Event:
        """An event set once `count` deliveries have arrived (await it; no polling)."""
        event = asyncio.Event()
        self._waiters.append((count, event))
        self._wake()
        return event

    def _wake(self) -> None:
        for count, event in self._waiters:
            if len(self.deliveries) >= count:
                event.set()

    def answer(self, host: str, path: str, *answers: Answer | int) -> None:
        queue = self._answers[(host, path)]
        queue.clear()
        queue.extend(a if isinstance(a, Answer) else Answer(a) for a in answers)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def to(self, host: str, path: str | None = None) -> list[Delivery]:
        return [d for d in self.deliveries if d.host == host and (path is None or d.path == path)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        host = request.host.rsplit(":", 1)[0]
        self.deliveries.append(Delivery(host, request.path_qs, dict(request.headers), body))
        self._wake()
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self._answers.get((host, request.path))
        answer = (queue.popleft() if len(queue) > 1 else queue[0]) if queue else Answer()
        return web.Response(status=answer.status, headers=dict(answer.headers), text="")

    async def start(self, port: int = 0) -> Sink:
        app = web.Application(client_max_size=16 * 2**20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server  # noqa: SLF001 - aiohttp exposes the bound port only here
        assert server is not None and server.sockets
        self.port = int(server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class LoopbackDns(AbstractResolver):
    """Every name resolves to 127.0.0.1; names in `failing` fail like NXDOMAIN."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.failing = failing or set()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host in self.failing:
            raise OSError(f"NXDOMAIN {host}")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


def run_sink_forever(port: int, delay: float) -> None:
    """Entry for a sink in another process (not needed by the tests, kept for the bench)."""

    async def main() -> None:
        sink = await Sink(delay=delay).start(port)
        print(sink.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


__all__: list[Any] = ["Answer", "Delivery", "LoopbackDns", "Sink"]
