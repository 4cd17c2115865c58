"""Handles journalled updates: in order per chat, each in one transaction that stores
the user's changes, the replies (the outbox: `deliveries` rows of kind "reply") and the
journal's "done" mark. The replies are then sent from the outbox; what cannot be sent now
is left to the scheduler's dispatcher, which retries it with an apology for the delay.
A crash at any point loses nothing: an unfinished update is handled again on the next
start, and an outbox row whose send was interrupted goes out when its lease runs out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import ChatBlocked, ReplyChannel, RetryLater, TemporaryFailure
from bot.channels.chat_lock import ChatLocks
from bot.channels.flood import FloodGuard, Verdict
from bot.clock import Clock
from bot.db.group_commit import GroupCommit
from bot.db.inbound import DONE, UNREADABLE, Arrival, InboundRepository
from bot.db.models import InboundUpdate
from bot.db.repositories import UserRepository
from bot.db.schedule import BLOCKED, CANCELLED, FAILED, SENT, UNREACHABLE, DeliveryRepository
from bot.inbound.events import (
    Action,
    Decoded,
    Event,
    Handle,
    Ignore,
    Notice,
    Reachability,
    StatusReport,
)
from handlers.parsing import clean_text
from handlers.router import Coach
from handlers.types import Inbound, Reply
from scheduler.store import hold_replies, postpone_replies, reactivate

log = logging.getLogger(__name__)

T = TypeVar("T")

Decoder = Callable[[InboundUpdate], Awaitable[Decoded]]

# Handling that fails for a reason outside the coach (the database is locked or gone)
# is tried again after these pauses; after the last, the update waits for a restart.
RETRY_PAUSES = (0.5, 1, 2, 4, 8, 15, 30)
# How long an outbox row is held for the live send before the dispatcher may take it;
# renewed before a reply once half of it is gone. Long enough for a backlog at 25
# messages/s, or a 429 pause.
SEND_LEASE = timedelta(minutes=10)
# Updates handled at once; more would only queue for database connections.
MAX_CONCURRENT = 32
# Pending updates no task is running (given up on, journalled by a process that died)
# are looked at this often, once they are this old.
SWEEP_EVERY_SECONDS = 30.0
SWEEP_AGE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Outbox:
    """Replies stored with the update that caused them, to be sent right after."""

    user_id: int
    chat_id: str
    ids: list[int]
    replies: list[Reply]
    edit_target: str | None
    leased_until: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of outbox rows after a send."""

    ids: list[int]
    status: str
    error: str = ""
    ref: str = ""


Recorded = tuple[list[InboundUpdate], list[InboundUpdate]]


class InboundWorker:
    def __init__(
        self,
        *,
        channel: str,
        bot_id: str,
        sessions: async_sessionmaker[AsyncSession],
        coach: Coach,
        clock: Clock,
        decode: Decoder,
        replies: ReplyChannel,
        flood: FloodGuard | None = None,
    ) -> None:
        self._channel = channel
        self._bot_id = bot_id
        self._sessions = sessions
        self._coach = coach
        self._clock = clock
        self._decode = decode
        self._replies = replies
        # On Unix time, the clock of the platforms' message dates.
        self._flood = flood or FloodGuard(clock=time.time)
        self._chats = ChatLocks()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[int] = set()  # journal row ids with a task
        self._sweeper: asyncio.Task[None] | None = None
        # Under load, journalling arrivals and recording sends are most of the
        # transactions; callers at the same moment share one.
        self._arrivals = GroupCommit[Sequence[Arrival], Recorded](sessions, self._record)
        self._outcomes = GroupCommit[Outcome, None](sessions, self._record_outcomes)
        metrics.start_channel(channel)

    @property
    def busy(self) -> int:
        """Updates accepted and not finished yet."""
        return len(self._tasks)

    def _journal(self, session: AsyncSession) -> InboundRepository:
        return InboundRepository(session, self._channel, self._bot_id)

    async def accept(self, arrivals: Sequence[Arrival]) -> int:
        """Writes the arrivals to the journal and starts handling them. When this returns
        they are committed, and only then may the platform be told they arrived; when it
        raises, nothing was written and the platform must deliver them again. Returns how
        many were new (not redeliveries)."""
        rows, stuck = await self._arrivals.submit(arrivals)
        if len(rows) < len(arrivals):
            metrics.count_update(self._channel, "duplicate", len(arrivals) - len(rows))
        sent_at = {arrival.platform_id: arrival.sent_at for arrival in arrivals}
        from_user = {arrival.platform_id: arrival.from_user for arrival in arrivals}
        for row in rows:
            # Judged by when the user sent it: a backlog after downtime is not a flood.
            key = f"{self._channel}:{row.chat_id}"
            verdict = (
                self._flood.check(key, sent_at.get(row.platform_id))
                if from_user.get(row.platform_id, True)
                else Verdict.ALLOW
            )
            self._start(row, verdict)
        for row in stuck:
            self._start(row, Verdict.ALLOW)
        return len(rows)

    async def _record(
        self, session: AsyncSession, batches: Sequence[Sequence[Arrival]]
    ) -> list[Recorded]:
        journal, now, recorded = self._journal(session), self._clock(), []
        for arrivals in batches:
            rows = await journal.record(arrivals, now)
            # A redelivery of an update still pending (its first commit was reported as
            # failed, or its task gave up) is started again unless a task runs it.
            stuck = await journal.pending_among(arrivals) if len(rows) < len(arrivals) else []
            recorded.append((rows, stuck))
        return recorded

    async def start(self) -> int:
        """Starts the updates a previous run journalled and did not finish, and the
        sweep that picks up any left without a task later. Returns how many resumed."""
        async with self._sessions() as session:
            rows = await self._journal(session).unfinished()
        for row in rows:
            self._start(row, Verdict.ALLOW)
        if rows:
            log.info("%s: resuming %d unfinished update(s)", self._channel, len(rows))
        self._sweeper = asyncio.create_task(self._sweep_forever())
        metrics.watch_journal(self._channel, self.journal_lag)
        return len(rows)

    async def _sweep_forever(self) -> None:
        """Now and then, starts pending updates that no task is running: ones this
        process gave up on while the database was down, or another process left."""
        while True:
            await asyncio.sleep(SWEEP_EVERY_SECONDS)
            try:
                rows = await _uninterrupted(self._stale_rows())
            except Exception as error:
                log.warning("%s: journal sweep failed: %s", self._channel, type(error).__name__)
                continue
            for row in rows:
                self._start(row, Verdict.ALLOW)

    async def _stale_rows(self) -> list[InboundUpdate]:
        async with self._sessions() as session:
            return await self._journal(session).unfinished(self._clock() - SWEEP_AGE)

    async def journal_lag(self) -> float:
        """Seconds the oldest pending update has waited in the journal; 0 when none."""
        async with self._sessions() as session:
            oldest = await self._journal(session).oldest_pending()
        return 0.0 if oldest is None else max(0.0, (self._clock() - oldest).total_seconds())

    async def stalled(self, limit_seconds: float) -> str | None:
        """A health probe: what is wrong when a journalled update has waited longer
        than `limit_seconds` to be handled."""
        waited = await self.journal_lag()
        if waited <= limit_seconds:
            return None
        return f"a {self._channel} update has waited {waited:.0f} s to be handled"

    async def mark_blocked(self, chat_id: str) -> None:
        """The platform says the user blocked the bot or can't be reached."""
        async with self._sessions() as session, session.begin():
            user = await UserRepository(session).find(self._channel, chat_id)
            if user is not None:
                user.blocked = True
                log.info("%s user %s can't be reached", self._channel, user.id)

    def _start(self, row: InboundUpdate, verdict: Verdict) -> None:
        # Tasks start in journal order and queue on the chat's lock in that order, so a
        # chat's updates are handled one by one, in order; other chats run alongside.
        if row.id in self._running:
            return
        self._running.add(row.id)
        task = asyncio.create_task(self._run(row, verdict))
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            self._running.discard(row.id)

        task.add_done_callback(done)

    async def drain(self, seconds: float) -> bool:
        """Waits for everything accepted to be handled and sent. What is still running
        after `seconds` is cancelled; it stays in the journal and the outbox, and the
        next start finishes it. True when nothing had to be cancelled."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        metrics.unwatch_journal(self._channel, self.journal_lag)
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=seconds)
        for task in pending:
            task.cancel()
        if pending:
            # A transaction in flight is seen through; a database that hangs is not.
            await asyncio.wait(pending, timeout=seconds + 5)
            log.warning("%s: %d update(s) left for the next start", self._channel, len(pending))
        return not pending

    async def _run(self, row: InboundUpdate, verdict: Verdict) -> None:
        async with self._chats.hold(row.chat_id or f"update:{row.id}"), self._slots:
            for pause in (*RETRY_PAUSES, None):
                try:
                    await self._handle(row, verdict)
                    return
                except Exception as error:
                    if pause is None:
                        metrics.count_update(self._channel, "failed")
                        log.error(
                            "%s update %s: giving up for now (%s)",
                            self._channel,
                            row.platform_id,
                            type(error).__name__,
                        )
                        return
                    log.warning(
                        "%s update %s: handling failed (%s), retrying in %s s",
                        self._channel,
                        row.platform_id,
                        type(error).__name__,
                        pause,
                    )
                    await asyncio.sleep(pause)

    async def _handle(self, row: InboundUpdate, verdict: Verdict) -> None:
        decoded = await _uninterrupted(self._decode(row))  # may touch the database
        await _best_effort(decoded.before, "before")
        # Once the transaction has begun it is seen through, even when shutdown cancels
        # this task: cancelled half-way, a commit could land without anyone knowing the
        # replies are waiting to be sent.
        storing = asyncio.ensure_future(self._store_or_apologise(row, decoded, verdict))
        try:
            claimed, outbox = await asyncio.shield(storing)
        except asyncio.CancelledError:
            try:
                _, outbox = await storing
            except Exception:
                outbox = None  # rolled back: the update is still pending in the journal
            if outbox is not None:
                await self._release(outbox)
            raise
        if not claimed:
            return  # another process handled it meanwhile
        if outbox is not None:
            try:
                await self._send(outbox)
            except asyncio.CancelledError:
                # Shutdown ran out of time: what was not sent goes out with the next
                # start's dispatcher, not after the lease.
                await _uninterrupted(self._release(outbox))
                raise
        await _best_effort(decoded.after, "after")

    async def _store_or_apologise(
        self, row: InboundUpdate, decoded: Decoded, verdict: Verdict
    ) -> tuple[bool, Outbox | None]:
        started = time.perf_counter()
        failed = False
        try:
            claimed, outbox = await self._store(row, decoded, verdict, failed=False)
        except Exception as error:
            if _is_outage(error):
                raise  # the database, not the coach: the whole update is tried again
            # The coach failed: its changes are rolled back and the user gets an apology
            # (the user's text is not logged). If storing that fails too, the database
            # is in trouble after all, and the update is tried again.
            log.exception("%s update %s: handler failed", self._channel, row.platform_id)
            failed = True
            claimed, outbox = await self._store(row, decoded, verdict, failed=True)
        # Counted at the commit, before the send: the send has metrics of its own, and
        # an update whose replies are still queued for the limiter is handled.
        if claimed:
            metrics.observe_handler(self._channel, time.perf_counter() - started)
            metrics.count_update(self._channel, _outcome(decoded.event, verdict, failed))
        else:
            metrics.count_update(self._channel, "duplicate")
        return claimed, outbox

    async def _store(
        self, row: InboundUpdate, decoded: Decoded, verdict: Verdict, failed: bool
    ) -> tuple[bool, Outbox | None]:
        """One transaction: the journal's mark first (on SQLite that takes the write lock
        before anything is read), then the update's effects and its replies."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            status = DONE if decoded.readable else UNREADABLE
            journal = self._journal(session)
            if not await journal.take_turn(row):
                raise EarlierUpdatePending(row.chat_id)
            if not await journal.claim(row.id, now, status):
                return False, None
            return True, await self._apply(session, decoded, verdict, now, failed)

    async def _apply(
        self,
        session: AsyncSession,
        decoded: Decoded,
        verdict: Verdict,
        now: datetime,
        failed: bool,
    ) -> Outbox | None:
        event = decoded.event
        users = UserRepository(session)
        if isinstance(event, Ignore):
            return None
        if isinstance(event, StatusReport):
            await self._apply_status(session, event, now)
            return None
        if isinstance(event, Reachability):
            user = await users.find(self._channel, event.chat_id)
            if user is not None:
                if event.blocked:
                    user.blocked = True
                else:
                    await reactivate(session, user, now)
            return None
        if isinstance(event, Notice):
            chat_id, edit_target, name = event.chat_id, None, event.display_name
            replies = [Reply(self._coach.library.messages.render(event.message))]
        else:
            inbound = event.inbound
            chat_id, edit_target, name = inbound.chat_id, event.edit_target, inbound.display_name
            if failed:
                replies = [self._coach.apology()]
            else:
                replies = await self._coach_replies(session, inbound, verdict)
        if not replies:
            return None
        user, _ = await users.get_or_create(self._channel, chat_id, clean_text(name)[:128], now)
        ids = await hold_replies(session, user.id, replies, now, SEND_LEASE)
        return Outbox(user.id, chat_id, ids, replies, edit_target, now + SEND_LEASE)

    async def _apply_status(
        self, session: AsyncSession, event: StatusReport, now: datetime
    ) -> None:
        """A message marked sent can still fail later; its row says so, and a user who
        can't be reached is treated like one who blocked the bot."""
        deliveries = DeliveryRepository(session)
        if event.outcome in ("sent", "delivered", "read"):
            await deliveries.record_receipt(event.ref, event.outcome, now)
            return
        ids = [row.id for row in await deliveries.with_ref(event.ref)]
        if event.outcome == "unreachable":
            await deliveries.finish(ids, CANCELLED, now, UNREACHABLE)
            user = await UserRepository(session).find(self._channel, event.chat_id)
            if user is not None:
                user.blocked = True
                await deliveries.cancel_pending(user.id, reason=UNREACHABLE)
        else:
            await deliveries.finish(ids, FAILED, now, event.reason)

    async def _coach_replies(
        self, session: AsyncSession, inbound: Inbound, verdict: Verdict
    ) -> list[Reply]:
        if verdict is Verdict.DROP:
            return []
        if verdict is Verdict.WARN:
            return [Reply(self._coach.library.messages.render("flood_note"))]
        return await self._coach.handle_in(session, inbound)

    async def _send(self, outbox: Outbox) -> None:
        """Sends the outbox, one reply at a time, or all together where the channel
        merges replies into fewer messages (WhatsApp)."""
        chat_id, edit_target = outbox.chat_id, outbox.edit_target
        count = len(outbox.ids)
        parts = (
            [range(count)]
            if self._replies.merges_replies
            else [range(i, i + 1) for i in range(count)]
        )
        leased_until = outbox.leased_until
        for part in parts:
            ids = [outbox.ids[i] for i in part]
            rest = outbox.ids[part.start :]
            # A reply queued for the limiter behind a long backlog renews its lease; one
            # sent at once (nearly all) is well inside the lease it was stored with.
            if self._clock() > leased_until - SEND_LEASE / 2:
                leased_until = self._clock() + SEND_LEASE
                if not await _uninterrupted(self._renew(ids, leased_until)):
                    return  # the lease ran out and the dispatcher has these now
            try:
                ref = await self._replies.reply(
                    chat_id,
                    [outbox.replies[i] for i in part],
                    edit_target if part.start == 0 else None,
                )
            except ChatBlocked:
                await _uninterrupted(self._finish(rest, CANCELLED, BLOCKED))
                return
            except (RetryLater, TemporaryFailure) as error:
                # The sender has already retried a few times: the dispatcher takes over,
                # with its own back-off, at its next tick.
                wait = timedelta(seconds=error.seconds if isinstance(error, RetryLater) else 0)
                log.warning(
                    "%s user %s: reply waits (%s)",
                    self._channel,
                    outbox.user_id,
                    type(error).__name__,
                )
                at, reason = self._clock() + wait, type(error).__name__
                await _uninterrupted(self._postpone(outbox.user_id, rest, at, reason))
                return
            except Exception as error:
                # This reply was refused (the sender logged why); the next ones may not be.
                log.error(
                    "%s user %s: reply failed: %s",
                    self._channel,
                    outbox.user_id,
                    type(error).__name__,
                )
                await _uninterrupted(self._finish(ids, FAILED, type(error).__name__))
                continue
            await _uninterrupted(self._finish(ids, SENT, ref=ref or ""))

    async def _renew(self, ids: list[int], until: datetime) -> bool:
        async with self._sessions() as session, session.begin():
            return await DeliveryRepository(session).renew_lease(ids, until)

    async def _postpone(self, user_id: int, ids: list[int], at: datetime, reason: str) -> None:
        async with self._sessions() as session, session.begin():
            await postpone_replies(session, user_id, ids, at, reason)

    async def _release(self, outbox: Outbox) -> None:
        async with self._sessions() as session, session.begin():
            await DeliveryRepository(session).release_sending(outbox.ids, self._clock())
            await DeliveryRepository(session).retry_waiting_replies(outbox.user_id, self._clock())

    async def _finish(self, ids: list[int], status: str, error: str = "", ref: str = "") -> None:
        await self._outcomes.submit(Outcome(ids, status, error, ref))

    async def _record_outcomes(
        self, session: AsyncSession, outcomes: Sequence[Outcome]
    ) -> list[None]:
        deliveries, now = DeliveryRepository(session), self._clock()
        for outcome in outcomes:
            await deliveries.finish(outcome.ids, outcome.status, now, outcome.error, outcome.ref)
        return [None] * len(outcomes)


# PostgreSQL error classes that pass: connection (08), transaction rollback such as a
# deadlock or a serialization failure (40), insufficient resources (53), operator
# intervention such as a cancelled statement or a shutdown (57).
PASSING_SQLSTATE_CLASSES = ("08", "40", "53", "57")


async def _uninterrupted(work: Awaitable[T]) -> T:
    """Runs a database call to its end even when shutdown cancels the caller (the cancel
    is raised after): cut short, it would leave a connection whose rollback is cancelled
    too, and a mark half-made."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


class EarlierUpdatePending(Exception):
    """Another instance is still on an earlier update of this chat: this one waits its
    turn, as it would for a busy database."""


def _is_outage(error: Exception) -> bool:
    """The database is unreachable, busy or locked: worth waiting for, unlike a
    handler's bug."""
    if isinstance(error, OSError | TimeoutError | PoolTimeout | EarlierUpdatePending):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if isinstance(sqlstate, str):
            return sqlstate[:2] in PASSING_SQLSTATE_CLASSES
        reason = str(error.orig).lower()  # SQLite says it in words
        return any(word in reason for word in ("locked", "busy", "disk i/o"))
    return False


def _outcome(event: Event, verdict: Verdict, failed: bool) -> metrics.UpdateOutcome:
    if failed:
        return "failed"
    if isinstance(event, Ignore):
        return "ignored"
    if isinstance(event, Notice):
        return "notice"
    if isinstance(event, Handle) and verdict is Verdict.DROP:
        return "ignored"
    if isinstance(event, Handle) and verdict is Verdict.WARN:
        return "notice"  # the flood note instead of the coach's answer
    return "handled"


async def _best_effort(action: Action | None, what: str) -> None:
    if action is None:
        return
    try:
        await action()
    except Exception as error:
        log.warning("channel action %s failed: %s", what, type(error).__name__)
