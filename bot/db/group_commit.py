"""Group commit: many callers' small writes share one transaction.

Under load, the fixed cost of a transaction (a pooled connection, BEGIN, COMMIT, and on
SQLite the write lock) is most of the cost of a small write such as journalling one
update or marking one reply sent. A caller hands its item to `submit` and waits; one
writer takes every item waiting, runs `write` over them in one transaction, commits, and
answers each caller. A caller alone waits for its own transaction and no longer, so
nothing is delayed to fill a batch. When the transaction fails, every caller in it gets
the error and nothing of the batch was written, as if each had failed alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Item = TypeVar("Item")
Result = TypeVar("Result")

# Enough to amortise a commit; small enough that one transaction never holds SQLite's
# write lock for long.
MAX_BATCH = 64


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        write: Callable[[AsyncSession, Sequence[Item]], Awaitable[Sequence[Result]]],
        max_batch: int = MAX_BATCH,
    ) -> None:
        """`write` gets the batch's items and returns one result per item, in order."""
        self._sessions = sessions
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Writes `item` with whatever else is waiting; returns once it is committed.
        Cancelling the caller does not cancel the write: its batch is seen through."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        # A caller cancelled meanwhile never reads its outcome; it is read here instead,
        # so a failed batch is not reported again as an exception nobody retrieved.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                async with self._sessions() as session, session.begin():
                    results = await self._write(session, [item for item, _ in batch])
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            except asyncio.CancelledError:
                # The loop is shutting down under us: whoever still waits hears it.
                for _, future in batch + self._waiting:
                    if not future.done():
                        future.cancel()
                self._waiting.clear()
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
