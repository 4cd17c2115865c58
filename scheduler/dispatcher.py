"""Claims due deliveries, sends one message per user through the user's channel, and
marks the rows. Catch-up rules: a daily message more than 2 hours late, or due in quiet
hours, is skipped; plan steps wait out quiet hours and are sent late rather than lost,
but never after the interview."""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from scheduler.compose import compose
from scheduler.timing import in_quiet_hours, next_quiet_end

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 100  # users per claim; all of a user's due rows come together
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 1800
# A waiting reply still goes out in quiet hours when the user wrote less than this ago;
# otherwise it waits for the morning like everything else.
REPLY_AWAKE = timedelta(minutes=15)


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential, capped, with full jitter between half and all of the step."""
    step = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=step * rng.uniform(0.5, 1.0))


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

    async def run_once(self) -> int:
        """One pass; returns how many messages were sent."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            claimed = await DeliveryRepository(session).claim_due(
                now, LEASE, BATCH, channels=list(self._channels)
            )
        by_user: dict[int, list[Delivery]] = defaultdict(list)
        for row in claimed:
            by_user[row.user_id].append(row)
        sent = 0
        for user_id, rows in by_user.items():
            sent += await self._deliver(user_id, rows, now)
        return sent

    async def _triage(
        self, session: AsyncSession, user: User | None, rows: list[Delivery], now: datetime
    ) -> list[Delivery]:
        """Marks rows that must not go out now; returns the ones to send."""
        deliveries = DeliveryRepository(session)
        if user is None or user.blocked or user.channel not in self._channels:
            await deliveries.finish([r.id for r in rows], CANCELLED, now, UNREACHABLE)
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
        return to_send

    async def _deliver(self, user_id: int, rows: list[Delivery], now: datetime) -> int:
        async with self._sessions() as session, session.begin():
            user = await session.get(User, user_id)
            to_send = await self._triage(session, user, rows, now)
            if not to_send or user is None:
                return 0
            reply, effects = await compose(session, self._library, user, to_send, now)
            if reply is None:
                await DeliveryRepository(session).finish(
                    [r.id for r in to_send], SKIPPED, now, "no content"
                )
                return 0
        ids = [r.id for r in to_send]
        channel = self._channels[user.channel]
        try:
            ref = await channel.deliver(user.external_id, reply)
        except ChatBlocked:
            async with self._sessions() as session, session.begin():
                deliveries = DeliveryRepository(session)
                await deliveries.finish(ids, CANCELLED, now, BLOCKED)
                await deliveries.cancel_pending(user_id, reason=BLOCKED)
                blocked = await session.get(User, user_id)
                if blocked is not None:
                    blocked.blocked = True
            return 0
        except RetryLater as error:
            async with self._sessions() as session, session.begin():
                retry_at = self._clock() + timedelta(seconds=error.seconds)
                await DeliveryRepository(session).retry_later(ids, retry_at, "rate limited")
            return 0
        except Refused as error:
            log.warning("delivery to user %s refused: %s", user_id, type(error).__name__)
            async with self._sessions() as session, session.begin():
                await DeliveryRepository(session).finish(ids, FAILED, now, type(error).__name__)
            return 0
        except Exception as error:
            log.warning("delivery to user %s failed: %s", user_id, type(error).__name__)
            retry_at = self._clock() + backoff(max(r.attempts for r in to_send), self._rng)
            # A waiting reply is retried as long as it is valid: it answers the user.
            give_up = [
                r.id
                for r in to_send
                if retry_at >= r.expires_at or (r.kind != "reply" and r.attempts >= MAX_ATTEMPTS)
            ]
            again = [i for i in ids if i not in give_up]
            async with self._sessions() as session, session.begin():
                deliveries = DeliveryRepository(session)
                await deliveries.finish(give_up, FAILED, now, type(error).__name__)
                await deliveries.retry_later(again, retry_at, type(error).__name__)
            return 0
        async with self._sessions() as session, session.begin():
            await DeliveryRepository(session).finish(ids, SENT, self._clock(), ref=ref or "")
            fresh = await session.get(User, user_id)
            if fresh is not None:
                await effects.apply(session, fresh, self._clock())
        return 1
