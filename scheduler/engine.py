"""The clock: an APScheduler `AsyncIOScheduler` with two fixed jobs (never one per user).
All state is in the database, so ticks can run in any process, any number of times. On
PostgreSQL one process at a time plans (an advisory lock); every process dispatches,
claiming different users."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import OutboundChannel
from bot.clock import Clock
from bot.db.inbound import forget_handled_before
from content.loader import Library
from scheduler.dispatcher import Dispatcher
from scheduler.planner import plan_daily

log = logging.getLogger(__name__)

PLANNER_EVERY_SECONDS = 60
INBOUND_KEPT = timedelta(days=7)
DISPATCHER_EVERY_SECONDS = 5
# pg_try_advisory_xact_lock's key for the planner: any number the app uses nowhere else.
PLANNER_LOCK = 0x636F6163  # "coac"


class SchedulerEngine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        library: Library,
        channels: Mapping[str, OutboundChannel],
        clock: Clock,
        planner_every: float = PLANNER_EVERY_SECONDS,
        dispatcher_every: float = DISPATCHER_EVERY_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.dispatcher = Dispatcher(sessions, library, channels, clock)
        self._planner_every = planner_every
        self._dispatcher_every = dispatcher_every
        self._scheduler: AsyncIOScheduler | None = None
        # A dispatch pass can stream for an hour; planning goes on beside it.
        self._planning = asyncio.Lock()
        self._dispatching = asyncio.Lock()
        self._first_tick: asyncio.Task[None] | None = None

    async def plan_tick(self) -> None:
        if self._planning.locked():
            return  # the tick still running covers this minute
        async with self._planning:
            try:
                now = self._clock()
                async with self._sessions() as session, session.begin():
                    if not await _planner_lock(session):
                        return  # another instance is planning this minute
                    await plan_daily(session, now)
                    await forget_handled_before(session, now - INBOUND_KEPT)
            except Exception:
                log.exception("planner tick failed")

    async def dispatch_tick(self) -> None:
        if self._dispatching.locked():
            return  # the running pass sends what fell due meanwhile
        async with self._dispatching:
            try:
                await self.dispatcher.run_once()
            except Exception:
                log.exception("dispatcher tick failed")

    async def tick(self) -> None:
        await self.plan_tick()
        await self.dispatch_tick()

    def start(self) -> None:
        scheduler = AsyncIOScheduler()
        for job_id, job, every in (
            ("planner", self.plan_tick, self._planner_every),
            ("dispatcher", self.dispatch_tick, self._dispatcher_every),
        ):
            scheduler.add_job(
                job,
                "interval",
                seconds=every,
                id=job_id,
                # Two, so that APScheduler does not warn at every tick of a long pass:
                # a tick that finds the last one still running returns at once.
                max_instances=2,
                coalesce=True,
                misfire_grace_time=None,
            )
        scheduler.start()
        self._scheduler = scheduler
        self._first_tick = asyncio.get_running_loop().create_task(self.tick())

    async def stop(self) -> None:
        # A dispatch pass stops after the batches it has claimed.
        self.dispatcher.stop()
        if self._first_tick is not None:
            await self._first_tick
        # Shutting APScheduler down cancels running jobs; take the locks first, so a tick
        # that is writing to the database finishes and only idle waiters are cancelled.
        async with self._planning, self._dispatching:
            if self._scheduler is not None:
                self._scheduler.shutdown(wait=False)
                self._scheduler = None


async def _planner_lock(session: AsyncSession) -> bool:
    """True when this transaction may plan. SQLite has one writer, so it always may; on
    PostgreSQL the lock is held until the commit, and an instance that doesn't get it
    skips the tick."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PLANNER_LOCK})
    )
