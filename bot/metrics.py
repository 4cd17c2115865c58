"""Prometheus metrics, served as text at `GET /metrics` (`bot/web.py`).

Every metric lives in this module's own registry rather than prometheus_client's global
one, so that nothing another library registers there ends up on our page. The names are
a contract with the Grafana dashboard: rename one and the dashboard goes blank.

Labels never carry anything about a person (no chat id, name, phone number or text):
only the channel and short fixed words, which also keeps the number of series small.

The journal lag is the one value read from the database, at scrape time: each running
inbound worker registers a function for it (`watch_journal`), and the page asks them
(`refresh_journal_lag`) just before it is rendered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final, Literal

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest

log = logging.getLogger(__name__)

UpdateOutcome = Literal["handled", "failed", "notice", "ignored", "duplicate"]
DeliveryOutcome = Literal["sent", "failed", "skipped", "cancelled", "retry"]
Priority = Literal["reply", "scheduled"]
JournalLag = Callable[[], Awaitable[float]]

UPDATE_OUTCOMES: Final[tuple[UpdateOutcome, ...]] = (
    "handled",
    "failed",
    "notice",
    "ignored",
    "duplicate",
)
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
# Prometheus gives up on a scrape after 10 s by default; a database that hangs must not
# take the other metrics down with it.
JOURNAL_LAG_TIMEOUT_SECONDS: Final = 2.0

REGISTRY: Final = CollectorRegistry(auto_describe=True)

UPDATES: Final = Counter(
    "coach_updates_total",
    "Journalled updates by what became of them: handled, failed (the coach raised and "
    "the user got the apology, or handling gave up until later), notice (a fixed note "
    "such as 'paste the text'), ignored, duplicate (a redelivery, or another process "
    "got it first).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
HANDLER_SECONDS: Final = Histogram(
    "coach_handler_seconds",
    "Time to handle one journalled update, from the start of its transaction to the "
    "commit: the coach and the outbox write, not the send.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
JOURNAL_LAG: Final = Gauge(
    "coach_journal_lag_seconds",
    "Age of the oldest inbound update still waiting in the journal (0 when none), read "
    "from the database at scrape time; kept at its last value while it can't be read.",
    ["channel"],
    registry=REGISTRY,
)
DELIVERIES: Final = Counter(
    "coach_deliveries_total",
    "Messages the bot sends from the deliveries table, by kind and outcome: sent, "
    "failed, skipped, cancelled, retry.",
    ["channel", "kind", "outcome"],
    registry=REGISTRY,
)
RATE_LIMITED: Final = Counter(
    "coach_rate_limited_total",
    "Rate-limit answers from the platform: HTTP 429 from Telegram, Graph errors 130429 "
    "and 131056 from WhatsApp.",
    ["channel"],
    registry=REGISTRY,
)
DISPATCH_LAG: Final = Histogram(
    "coach_dispatch_lag_seconds",
    "Seconds between a delivery's due time and its send.",
    ["channel"],
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600),
    registry=REGISTRY,
)
LIMITER_WAIT: Final = Histogram(
    "coach_limiter_wait_seconds",
    "Time a message waited for the channel's send limiter, by priority: reply or scheduled.",
    ["channel", "priority"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)

_journals: dict[str, JournalLag] = {}
_refreshing: dict[str, asyncio.Task[None]] = {}


def start_channel(channel: str) -> None:
    """Creates the channel's series at zero, so that a dashboard's `rate()` sees the
    first update and the first 429 instead of a series that appears out of nothing."""
    for outcome in UPDATE_OUTCOMES:
        UPDATES.labels(channel=channel, outcome=outcome)
    HANDLER_SECONDS.labels(channel=channel)
    RATE_LIMITED.labels(channel=channel)


def count_update(channel: str, outcome: UpdateOutcome, count: int = 1) -> None:
    UPDATES.labels(channel=channel, outcome=outcome).inc(count)


def observe_handler(channel: str, seconds: float) -> None:
    HANDLER_SECONDS.labels(channel=channel).observe(seconds)


def count_delivery(channel: str, kind: str, outcome: DeliveryOutcome, count: int = 1) -> None:
    """`kind` is the delivery row's kind ("tip", "prep", "nudge", "reply", ...)."""
    DELIVERIES.labels(channel=channel, kind=kind, outcome=outcome).inc(count)


def count_rate_limited(channel: str) -> None:
    RATE_LIMITED.labels(channel=channel).inc()


def observe_dispatch_lag(channel: str, seconds: float) -> None:
    # A row claimed a moment before its due time (clock skew between processes) is on time.
    DISPATCH_LAG.labels(channel=channel).observe(max(0.0, seconds))


def observe_limiter_wait(channel: str, priority: Priority, seconds: float) -> None:
    LIMITER_WAIT.labels(channel=channel, priority=priority).observe(seconds)


def watch_journal(channel: str, lag: JournalLag) -> None:
    """Has `lag` (seconds the channel's oldest pending update has waited) read at every
    scrape, until `unwatch_journal`."""
    _journals[channel] = lag


def unwatch_journal(channel: str, lag: JournalLag) -> None:
    """Stops reading `lag`; the gauge keeps its last value. A newer watcher of the same
    channel stays."""
    if _journals.get(channel) == lag:
        del _journals[channel]


async def refresh_journal_lag(timeout_seconds: float = JOURNAL_LAG_TIMEOUT_SECONDS) -> None:
    """Reads every watched journal's lag, waiting at most `timeout_seconds`. A reading
    that fails leaves the gauge at its last value; one that is slow is not cancelled (a
    database call cut short can leave its connection half-used) and sets the gauge when
    it lands, and no second one starts for that channel meanwhile."""
    loop = asyncio.get_running_loop()
    waiting: list[asyncio.Task[None]] = []
    for channel, lag in list(_journals.items()):
        task = _refreshing.get(channel)
        # A task of an earlier event loop (tests run one per test) will never finish here.
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(_read_lag(channel, lag))
            _refreshing[channel] = task
        waiting.append(task)
    if waiting:
        await asyncio.wait(waiting, timeout=timeout_seconds)


async def _read_lag(channel: str, lag: JournalLag) -> None:
    try:
        JOURNAL_LAG.labels(channel=channel).set(await lag())
    except Exception as error:
        log.info("%s journal lag unknown: %s", channel, type(error).__name__)


def exposition() -> bytes:
    """The registry in Prometheus's text format; serve it with `CONTENT_TYPE`."""
    return _generate_latest(REGISTRY)
