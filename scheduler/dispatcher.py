"""Claims due deliveries, sends one message per user through the user's channel, and
marks the rows. Catch-up rules: a daily message more than 2 hours late, or due in quiet
hours, is skipped; plan steps wait out quiet hours and are sent late rather than lost,
but never after the interview.

A pass streams: it claims about one second's worth of users for the channel's rate,
composes their messages once the claim has committed, and hands them to the channel while
the next batch is claimed. The channel's pacer sets the pace, so there is no sleep
between batches, and at most `BATCHES_AHEAD` batches are held at once, so memory stays
bounded however many users are due."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import ChatBlocked, OutboundChannel, Refused, RetryLater
from bot.clock import Clock
from bot.db.models import Delivery, User
from bot.db.schedule import (
    BLOCKED,
    CANCELLED,
    FAILED,
    SENT,
    SKIPPED,
    UNREACHABLE,
    DeliveryRepository,
)
from content.loader import Library
from handlers.types import Reply
from scheduler.compose import Effects, apply_effects, compose
from scheduler.timing import in_quiet_hours, next_quiet_end

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
# Users per claim: about a second of the channel's rate, within these bounds. The claim
# and the marks of a batch each hold SQLite's one write lock: 100 users keep them well
# under the time other writers wait for it.
MIN_BATCH, MAX_BATCH = 10, 100
# Batches claimed and not yet recorded: one being sent, the next one queued behind it.
BATCHES_AHEAD = 2
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 1800
# A waiting reply still goes out in quiet hours when the user wrote less than this ago;
# otherwise it waits for the morning like everything else.
REPLY_AWAKE = timedelta(minutes=15)


def _count(channel: str, rows: list[Delivery], outcome: metrics.DeliveryOutcome) -> None:
    for kind, count in Counter(row.kind for row in rows).items():
        metrics.count_delivery(channel, kind, outcome, count)


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential, capped, with full jitter between half and all of the step."""
    step = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=step * rng.uniform(0.5, 1.0))


@dataclass
class _Message:
    """One user's composed message and the rows it carries."""

    user_id: int
    channel: str
    chat_id: str
    rows: list[Delivery]
    reply: Reply
    effects: Effects

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows]


@dataclass
class _Outcome:
    message: _Message
    ref: str | None = None
    error: BaseException | None = None


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        library: Library,
        channels: Mapping[str, OutboundChannel],
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._library = library
        self._channels = channels
        self._clock = clock
        self._rng = rng or random.Random()
        rate = sum(channel.scheduled_per_second for channel in channels.values())
        self._batch = max(MIN_BATCH, min(MAX_BATCH, round(rate)))
        self._stopping = False

    def stop(self) -> None:
        """Ends a running pass after the batches already claimed, and every later one:
        what is still due waits in the database for the next start."""
        self._stopping = True

    async def run_once(self) -> int:
        """One pass: sends everything due, batch after batch, until nothing is left.
        Returns how many messages were sent."""
        sent = 0
        sending: set[asyncio.Task[int]] = set()
        room = asyncio.Semaphore(BATCHES_AHEAD)
        try:
            while not self._stopping:
                await room.acquire()
                messages = None if self._stopping else await self._claim()
                if messages is None:
                    room.release()
                    break
                task = asyncio.create_task(self._send_batch(messages))
                task.add_done_callback(lambda _task: room.release())
                sending.add(task)
                for done in [t for t in sending if t.done()]:
                    sending.discard(done)
                    sent += done.result()
        finally:
            # A batch that was claimed is seen through, whatever ended the pass.
            for result in await asyncio.gather(*sending, return_exceptions=True):
                if isinstance(result, BaseException):
                    raise result
                sent += result
        return sent

    async def _claim(self) -> list[_Message] | None:
        """Claims the next batch and composes its messages; None when nothing is due."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            deliveries = DeliveryRepository(session)
            claimed = await deliveries.claim_due(now, LEASE, self._batch, list(self._channels))
            if not claimed:
                return None
            by_user: dict[int, list[Delivery]] = defaultdict(list)
            for row in claimed:
                by_user[row.user_id].append(row)
            users = {
                user.id: user
                for user in await session.scalars(select(User).where(User.id.in_(list(by_user))))
            }
            to_compose: list[tuple[User, list[Delivery]]] = []
            for user_id, rows in by_user.items():
                user = users.get(user_id)
                to_send = await self._triage(session, user, rows, now)
                if to_send and user is not None:
                    to_compose.append((user, to_send))
        # Composing only reads, and the claimed rows are leased, so it runs after the
        # claim has committed: SQLite's one write lock is held for the claim, not for
        # composing a hundred messages, which other writers would wait out.
        messages: list[_Message] = []
        empty: list[int] = []
        async with self._sessions() as session:
            for user, rows in to_compose:
                reply, effects = await compose(session, self._library, user, rows, now)
                if reply is None:
                    empty.extend(row.id for row in rows)
                    continue
                messages.append(
                    _Message(user.id, user.channel, user.external_id, rows, reply, effects)
                )
        if empty:
            async with self._sessions() as session, session.begin():
                await DeliveryRepository(session).finish(empty, SKIPPED, now, "no content")
        return messages

    async def _triage(
        self, session: AsyncSession, user: User | None, rows: list[Delivery], now: datetime
    ) -> list[Delivery]:
        """Marks rows that must not go out now; returns the ones to send."""
        deliveries = DeliveryRepository(session)
        if user is None or user.blocked or user.channel not in self._channels:
            await deliveries.finish([r.id for r in rows], CANCELLED, now, UNREACHABLE)
            _count(user.channel if user else "unknown", rows, "cancelled")
            return []
        to_send = []
        quiet = in_quiet_hours(now, user.timezone)
        # Replies go out in quiet hours while the user is evidently awake.
        awake = now - user.last_active_at <= REPLY_AWAKE
        for row in rows:
            if now > row.expires_at:
                await deliveries.finish([row.id], SKIPPED, now, "late")
            elif row.kind == "tip" and user.paused:
                await deliveries.finish([row.id], SKIPPED, now, "paused")
            elif quiet and row.kind == "tip":
                await deliveries.finish([row.id], SKIPPED, now, "quiet hours")
            elif quiet and not (row.kind == "reply" and awake):
                resume = next_quiet_end(now, user.timezone)
                if resume < row.expires_at:
                    await deliveries.retry_later([row.id], resume, "quiet hours")
                else:
                    await deliveries.finish([row.id], SKIPPED, now, "quiet hours")
            else:
                to_send.append(row)
        _count(user.channel, [r for r in rows if r not in to_send], "skipped")
        return to_send

    async def _send_batch(self, messages: list[_Message]) -> int:
        outcomes = await asyncio.gather(*(self._send(message) for message in messages))
        await self._record(outcomes)
        return sum(1 for outcome in outcomes if outcome.error is None)

    async def _send(self, message: _Message) -> _Outcome:
        try:
            ref = await self._channels[message.channel].deliver(message.chat_id, message.reply)
        except Exception as error:
            return _Outcome(message, error=error)
        return _Outcome(message, ref=ref)

    async def _record(self, outcomes: list[_Outcome]) -> None:
        """Marks a batch's rows in one transaction, by how each send went."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            deliveries = DeliveryRepository(session)
            sent = [o for o in outcomes if o.error is None]
            by_ref: dict[str, list[int]] = defaultdict(list)
            for outcome in sent:
                by_ref[outcome.ref or ""].extend(outcome.message.ids)
            for ref, ids in by_ref.items():
                await deliveries.finish(ids, SENT, now, ref=ref)
            for outcome in sent:
                message = outcome.message
                _count(message.channel, message.rows, "sent")
                due = min(row.due_at for row in message.rows)
                metrics.observe_dispatch_lag(message.channel, (now - due).total_seconds())
            effects = {o.message.user_id: o.message.effects for o in sent}
            if effects:
                # A user who left while their message was out has nothing to apply it to.
                present = set(await session.scalars(select(User.id).where(User.id.in_(effects))))
                await apply_effects(
                    session, {uid: done for uid, done in effects.items() if uid in present}, now
                )
            for outcome in outcomes:
                if outcome.error is not None:
                    await self._failed(session, outcome.message, outcome.error, now)

    async def _failed(
        self, session: AsyncSession, message: _Message, error: BaseException, now: datetime
    ) -> None:
        deliveries = DeliveryRepository(session)
        ids = message.ids
        if isinstance(error, ChatBlocked):
            await deliveries.finish(ids, CANCELLED, now, BLOCKED)
            await deliveries.cancel_pending(message.user_id, reason=BLOCKED)
            blocked = await session.get(User, message.user_id)
            if blocked is not None:
                blocked.blocked = True
            _count(message.channel, message.rows, "cancelled")
        elif isinstance(error, RetryLater):
            retry_at = now + timedelta(seconds=error.seconds)
            await deliveries.retry_later(ids, retry_at, "rate limited")
            _count(message.channel, message.rows, "retry")
        elif isinstance(error, Refused):
            log.warning("delivery to user %s refused: %s", message.user_id, type(error).__name__)
            await deliveries.finish(ids, FAILED, now, type(error).__name__)
            _count(message.channel, message.rows, "failed")
        else:
            log.warning("delivery to user %s failed: %s", message.user_id, type(error).__name__)
            attempts = max(r.attempts for r in message.rows)
            retry_at = now + backoff(attempts, self._rng)
            # A waiting reply is retried as long as it is valid: it answers the user.
            give_up = [
                r.id
                for r in message.rows
                if retry_at >= r.expires_at or (r.kind != "reply" and r.attempts >= MAX_ATTEMPTS)
            ]
            again = [i for i in ids if i not in give_up]
            if give_up:
                await deliveries.finish(give_up, FAILED, now, type(error).__name__)
            if again:
                await deliveries.retry_later(again, retry_at, type(error).__name__)
            _count(message.channel, [r for r in message.rows if r.id in give_up], "failed")
            _count(message.channel, [r for r in message.rows if r.id not in give_up], "retry")
