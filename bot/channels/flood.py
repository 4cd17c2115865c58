"""Incoming flood control per chat: a burst of messages gets one polite note, not a reply
to each. A token bucket per chat: `burst` messages at once, refilled at `rate` per second."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

MAX_TRACKED_CHATS = 10_000


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first message over the limit: answer with one note
    DROP = "drop"  # further messages in the same burst: stay quiet


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodGuard:
    def __init__(
        self,
        burst: int = 8,
        rate: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = burst
        self._rate = rate
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def check(self, chat_key: str, at: float | None = None) -> Verdict:
        """`at` is when the message was sent, on the clock this guard was made with."""
        now = self._clock() if at is None else at
        bucket = self._buckets.pop(chat_key, None) or _Bucket(float(self._burst), now)
        self._buckets[chat_key] = bucket
        if len(self._buckets) > MAX_TRACKED_CHATS:
            self._buckets.popitem(last=False)
        # Messages can come out of order (a backlog): time never runs backwards here.
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate)
        bucket.updated = max(now, bucket.updated)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return Verdict.ALLOW
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN
