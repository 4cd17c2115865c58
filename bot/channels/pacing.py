"""The one send rate a channel's messages share, with replies first.

A reply answers someone who is looking at the chat; a scheduled message can wait a
second. `aiolimiter` hands out its tokens in arrival order, so during a broadcast a
reply would queue behind every daily message claimed before it. The pacer hands each
slot to the best waiting priority instead, first come first served within one.

Slots are evenly spaced at `1 / rate` with no burst: a bucket that starts full would let
twice the rate through in the first second, at exactly the moment (the scheduler's
minute) when many chats are due at once.

Several instances of the bot share one budget through PostgreSQL (`SharedBudget`): each
reserves a short run of slots at a time from a row all instances update, so together
they stay under the limit.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import deque
from typing import Final, Literal, Protocol

log = logging.getLogger(__name__)

REPLY: Final = 0
SCHEDULED: Final = 1
PRIORITY_NAMES: Final[dict[int, Literal["reply", "scheduled"]]] = {
    REPLY: "reply",
    SCHEDULED: "scheduled",
}
# A reservation covers this long of the rate: short enough that slots an idle instance
# reserved and did not use are few, long enough that the row is not a hot spot.
RESERVATION_SECONDS: Final = 0.25


class Reservations(Protocol):
    async def reserve(self, seconds: float) -> float:
        """Reserves the next `seconds` of the shared budget; returns how many seconds
        from now the reserved run starts."""


class Pacer:
    def __init__(self, rate: float, shared: Reservations | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._interval = 1 / rate
        self._shared = shared
        self._next_slot = 0.0  # the local grid, in loop time
        self._reserved: deque[float] = deque()  # slots of the shared budget, in loop time
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._shared_failed = False

    async def acquire(self, priority: int = REPLY) -> float:
        """Waits for a slot; returns how long the wait was, in seconds."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrival), future))
        if self._pump is None or self._pump.done():
            self._pump = loop.create_task(self._hand_out())
        await future
        return loop.time() - started

    async def _hand_out(self) -> None:
        loop = asyncio.get_running_loop()
        while self._has_waiters():
            slot = await self._next()
            delay = slot - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # The best waiter now, not the one there was when the wait began.
            while self._waiting:
                _, _, future = heapq.heappop(self._waiting)
                if not future.done():  # done: its caller was cancelled while waiting
                    future.set_result(None)
                    break

    def _has_waiters(self) -> bool:
        while self._waiting and self._waiting[0][2].done():
            heapq.heappop(self._waiting)
        return bool(self._waiting)

    async def _next(self) -> float:
        """The time of the next slot this process may use."""
        loop = asyncio.get_running_loop()
        if self._shared is not None:
            if not self._reserved:
                await self._reserve(loop)
            if self._reserved:
                return self._reserved.popleft()
        now = loop.time()
        # After an idle spell the grid starts again from now, so the slots missed
        # meanwhile never come out as a burst.
        slot = self._next_slot if self._next_slot > now - self._interval else now
        self._next_slot = slot + self._interval
        return slot

    async def _reserve(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._shared is not None
        count = max(1, round(RESERVATION_SECONDS * self.rate))
        try:
            starts_in = await self._shared.reserve(count * self._interval)
        except Exception as error:
            # Sending goes on at this process's own rate rather than not at all.
            if not self._shared_failed:
                log.warning(
                    "shared send budget unavailable (%s); pacing locally", type(error).__name__
                )
            self._shared_failed = True
            return
        self._shared_failed = False
        start = loop.time() + starts_in
        self._reserved.extend(start + i * self._interval for i in range(count))
