"""Group commit of verified activities: the jobs of requests arriving together are stored with
one INSERT and one commit, and each request is answered only once its own job is committed."""

from __future__ import annotations

import asyncio
import logging

from redfed.ids import new_id
from redfed.models import Job
from redfed.services.jobs import MAX_INSERT_BATCH, insert_unique_jobs

log = logging.getLogger(__name__)


class JobIntake:
    """Queue of jobs waiting for the next INSERT. No timer: the first job is written at once,
    and jobs that arrive while a write is under way go together in the next one, so a quiet
    inbox waits for nothing and a busy one commits once per batch."""

    def __init__(self) -> None:
        self._pending: list[tuple[Job, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, job: Job) -> bool:
        """Store `job` (it has a unique_key); True if new, False if that key was stored before."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((job, future))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        batch: list[tuple[Job, asyncio.Future[bool]]] = []
        try:
            while self._pending:
                batch = self._pending[:MAX_INSERT_BATCH]
                del self._pending[:MAX_INSERT_BATCH]
                await self._write(batch)
        except BaseException:  # cancelled at shutdown: no request may wait forever
            for _, future in batch + self._pending:
                if not future.done():
                    future.set_exception(RuntimeError("the inbox intake stopped"))
            self._pending.clear()
            raise
        finally:
            self._writer = None

    async def _write(self, batch: list[tuple[Job, asyncio.Future[bool]]]) -> None:
        first: dict[str, Job] = {}
        for job, _ in batch:
            first.setdefault(str(job.unique_key), job)  # a second copy in the batch is a replay
        try:
            new = await insert_unique_jobs(list(first.values()))
        except Exception:  # one bad row must not fail its neighbours: write them one by one
            log.warning("inbox.intake_batch_failed jobs=%d", len(first), exc_info=True)
            await self._write_each(batch)
            return
        for job, future in batch:
            _settle(future, job.unique_key in new and first[str(job.unique_key)] is job)

    async def _write_each(self, batch: list[tuple[Job, asyncio.Future[bool]]]) -> None:
        for job, future in batch:
            # A fresh id: if the batch failed on an id another process made in the same
            # millisecond (ids.py), the same id would fail again, and that is no fault of
            # the activity. The unique key, which is what matters, stays.
            job.id = new_id()
            try:
                _settle(future, bool(await insert_unique_jobs([job])))
            except Exception as exc:  # reported to that request alone (500)
                if not future.done():
                    future.set_exception(exc)


def _settle(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():  # its request may have gone (client disconnected): nothing to tell
        future.set_result(value)
