"""Signing outgoing requests in a helper process, so a big fan-out uses a second core.

Why a process: `cryptography` holds the GIL while RSA signs (measured: two signing threads
never pass one core together), and an RSA-2048 signature costs about as much CPU as all the
rest of a delivery. A thread pool therefore only adds hand-offs; a helper process really runs
beside the event loop.

Why batches: each round trip to the helper costs a pipe write, a wake-up and two pickles, so
the requests that arrive while one batch is being signed travel together as the next batch.
The event loop reads answers with `add_reader` (no thread of ours in this process), and the
helper exits when its pipe closes, so a worker killed with SIGKILL leaves no orphan behind.

Anything wrong with the helper (it cannot start, it died) falls back to signing in this
process: slower, never a lost or unsigned request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from redfed.federation.signatures import sign_request

log = logging.getLogger(__name__)

# Small batches, several queued: a batch's deliveries wait for its last signature, so 8 (about
# 7 ms of signing) keep the event loop fed; 32 with 2 queued measured ~15 % fewer POSTs/s.
MAX_BATCH = 8
IN_FLIGHT = 4  # batches queued at the helper, so it never waits for the next one

# (method, url, body, key_id, private_key_pem, headers)
SignArgs = tuple[str, str, bytes | None, str, str, dict[str, str]]


class SigningFailed(Exception):
    """The helper could not sign one request (e.g. an unusable key); says why."""


def _sign_batch(batch: list[SignArgs]) -> list[tuple[bool, Any]]:
    """Runs in the helper: sign every request, reporting failures one by one."""
    results: list[tuple[bool, Any]] = []
    for method, url, body, key_id, pem, headers in batch:
        try:
            results.append(
                (
                    True,
                    sign_request(
                        method, url, body=body, key_id=key_id, private_key_pem=pem, headers=headers
                    ),
                )
            )
        except Exception as exc:  # reported to the caller, who decides (the job retries)
            results.append((False, f"{type(exc).__name__}: {exc}"))
    return results


def _helper_main(conn: multiprocessing.connection.Connection) -> None:
    """The helper process: sign batches until the pipe closes (the parent ended or died)."""
    while True:
        try:
            batch_id, batch = conn.recv()
        except (EOFError, OSError):
            return
        conn.send((batch_id, _sign_batch(batch)))


@dataclass
class _Batch:
    requests: list[SignArgs]
    futures: list[asyncio.Future[dict[str, str]]]
    answered: asyncio.Future[None] | None = None  # for an empty batch sent by `start`


@dataclass
class SigningPool:
    """One helper process and the batches sent to it from the current event loop."""

    max_batch: int = MAX_BATCH
    in_flight: int = IN_FLIGHT
    _process: Any = None
    _conn: multiprocessing.connection.Connection | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _waiting: list[tuple[SignArgs, asyncio.Future[dict[str, str]]]] = field(default_factory=list)
    _sent: dict[int, _Batch] = field(default_factory=dict)
    _next_id: int = 0
    _disabled: bool = False

    async def sign(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        key_id: str,
        private_key_pem: str,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """What `sign_request` returns, signed in the helper when it is available."""
        args: SignArgs = (method, url, body, key_id, private_key_pem, dict(headers or {}))
        if self._disabled or not self._ready():
            return _sign_here(args)
        future: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self._waiting.append((args, future))
        self._dispatch()
        return await future

    async def start(self) -> bool:
        """Start the helper now and wait until it answers (its imports take a few hundred
        ms of CPU), so the first big fan-out does not wait; False if it cannot run here."""
        if self._disabled or not self._ready() or self._conn is None:
            return False
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._next_id += 1
        self._sent[self._next_id] = _Batch([], [], answered)
        try:
            self._conn.send((self._next_id, []))
        except (OSError, ValueError):
            self._helper_lost()
            return False
        await answered
        return not self._disabled

    @property
    def helper_pid(self) -> int | None:
        """The helper's process id while it runs (for CPU accounting in benchmarks)."""
        return self._process.pid if self._process is not None and self._conn is not None else None

    def close(self) -> None:
        """Stop the helper; requests still waiting are signed here."""
        self._detach(sign_leftovers=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(timeout=5)
            self._process = None

    # ------------------------------------------------------------ internals

    def _ready(self) -> bool:
        """Start the helper on first use, and listen to it from the running loop."""
        loop = asyncio.get_running_loop()
        if self._conn is None:
            try:
                self._start()
            except Exception:  # no processes here (sandbox, resource limits): sign in-process
                log.warning("signing_pool.unavailable", exc_info=True)
                self._disabled = True
                return False
        if self._loop is not loop:
            self._detach(sign_leftovers=False)  # a previous loop's batches died with it
            assert self._conn is not None
            loop.add_reader(self._conn.fileno(), self._receive)
            # uvloop makes a watched descriptor non-blocking; our messages are read and written
            # whole (the helper sends each answer at once), so keep the pipe blocking.
            os.set_blocking(self._conn.fileno(), True)
            self._loop = loop
        return True

    def _start(self) -> None:
        # spawn, not fork: forking a process with an event loop and threads is unsafe.
        context = multiprocessing.get_context("spawn")
        mine, theirs = context.Pipe()
        process = context.Process(
            target=_helper_main, args=(theirs,), name="redfed-signer", daemon=True
        )
        process.start()
        theirs.close()  # only the helper holds its end: our exit closes the pipe for it
        self._process, self._conn = process, mine
        log.info("signing_pool.started pid=%s", process.pid)

    def _dispatch(self) -> None:
        while self._waiting and len(self._sent) < self.in_flight and self._conn is not None:
            chunk, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
            batch = _Batch([args for args, _ in chunk], [future for _, future in chunk])
            self._next_id += 1
            self._sent[self._next_id] = batch
            try:
                self._conn.send((self._next_id, batch.requests))
            except (OSError, ValueError):  # the helper is gone
                self._helper_lost()
                return

    def _receive(self) -> None:
        assert self._conn is not None
        try:
            batch_id, results = self._conn.recv()
        except (EOFError, OSError):
            self._helper_lost()
            return
        batch = self._sent.pop(batch_id, None)
        if batch is not None and batch.answered is not None and not batch.answered.done():
            batch.answered.set_result(None)
        if batch is not None:
            for future, (ok, value) in zip(batch.futures, results, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(SigningFailed(value))
        self._dispatch()

    def _helper_lost(self) -> None:
        log.warning("signing_pool.helper_lost: signing in-process from now on")
        self._detach(sign_leftovers=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(timeout=1)  # reap it (it is gone or going: its pipe is closed)
            self._process = None
        self._disabled = True

    def _detach(self, *, sign_leftovers: bool) -> None:
        """Stop listening; settle (or forget, for a closed loop) every open request."""
        if self._loop is not None and self._conn is not None and not self._loop.is_closed():
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self._conn.fileno())
        self._loop = None
        for batch in self._sent.values():
            if batch.answered is not None and not batch.answered.done():
                batch.answered.set_result(None)
        open_requests = [
            pair
            for batch in self._sent.values()
            for pair in zip(batch.requests, batch.futures, strict=True)
        ] + [(args, future) for args, future in self._waiting]
        self._sent, self._waiting = {}, []
        if not sign_leftovers:
            return
        for args, future in open_requests:
            if future.done():
                continue
            try:
                future.set_result(_sign_here(args))
            except Exception as exc:  # the same failure the helper would have reported
                future.set_exception(SigningFailed(f"{type(exc).__name__}: {exc}"))


def _sign_here(args: SignArgs) -> dict[str, str]:
    method, url, body, key_id, pem, headers = args
    return sign_request(method, url, body=body, key_id=key_id, private_key_pem=pem, headers=headers)
