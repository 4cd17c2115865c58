"""The coach's webhook path against a bare aiogram echo bot, both as real processes on the
same fake Bot API (loopback), in the same run.

    .venv/bin/python -m benchmarks.webhook --updates 2000 [--rounds 5] [--rate 100]
        [--latency-updates 1000] [--concurrency 32] [--database-url URL]

The coach is `interview-coach run` in webhook mode on a temporary SQLite file (or
`--database-url`), with its send limiter lifted (TELEGRAM_MESSAGES_PER_SECOND) and every
update from a chat of its own, so that neither the global 25/s nor the per-chat 1/s
binds. The echo bot is `benchmarks.echo_bot`. Each round measures, for each bot:

- throughput: `--updates` text messages ("/tips", "/bantuan", "/jadwal" in turn) posted
  to the webhook as fast as `--concurrency` connections allow; the time runs until the
  fake has the last reply (sendMessage);
- CPU per update: the bot process's user + system time (/proc) over that run, until it
  is idle again, divided by the updates;
- latency at a fixed offered load: `--latency-updates` posted at `--rate` a second on a
  fixed schedule (open loop); from each POST to the fake receiving that chat's reply,
  p50 and p99; and the CPU the bot used meanwhile, in % of one core.

Prints each round, then the medians over the rounds side by side with coach/echo. The
load generator and the fake share this process: "harness CPU" says how busy it was (near
100 % it, not the bot, set the pace).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.processes import BotProcess, settled_cpu_seconds, start_coach, start_echo
from tests.fakes.telegram_api import FakeTelegram

COMMANDS = ("/tips", "/bantuan", "/jadwal")
FIRST_CHAT = 100_000
WARMUP_UPDATES = 200
DEADLINE_SECONDS = 300
# No new reply for this long: what has not been answered counts as lost.
STALL_SECONDS = 20


class ChatIds:
    """A chat of its own for every update of the run, so no per-chat limit binds."""

    def __init__(self, first: int = FIRST_CHAT) -> None:
        self._next = first

    def take(self, count: int) -> list[int]:
        chats = list(range(self._next, self._next + count))
        self._next += count
        return chats


class Replies:
    """When the fake received the first sendMessage for each chat, read incrementally from
    `fake.calls` / `fake.call_times` from the moment this was made."""

    def __init__(self, fake: FakeTelegram) -> None:
        self._fake = fake
        self._cursor = len(fake.calls)
        self._errors = len(fake.errors)
        self.first: dict[int, float] = {}

    def scan(self) -> None:
        calls, times = self._fake.calls, self._fake.call_times
        end = len(calls)
        for index in range(self._cursor, end):
            method, params = calls[index]
            chat = params.get("chat_id")
            if method == "sendMessage" and isinstance(chat, int) and chat not in self.first:
                self.first[chat] = times[index]
        self._cursor = end

    @property
    def errors(self) -> int:
        """Calls the fake refused meanwhile (from either bot), printed to stderr."""
        refused = self._fake.errors[self._errors :]
        for method, code, description in refused:
            print(f"the fake refused {method}: {code} {description}", file=sys.stderr)
        self._errors += len(refused)
        return len(refused)

    async def wait_for(self, chats: list[int]) -> None:
        waiting = set(chats)
        now = time.monotonic()
        deadline, progress = now + DEADLINE_SECONDS, now
        while waiting and now < deadline and now - progress < STALL_SECONDS:
            await asyncio.sleep(0.005)
            self.scan()
            now = time.monotonic()
            if self.first.keys() & waiting:
                waiting.difference_update(self.first.keys())
                progress = now


@dataclass
class Round:
    throughput: float  # updates/s
    cpu_ms: float  # bot CPU per update, in the throughput run
    p50_ms: float
    p99_ms: float
    load_cpu: float  # bot CPU in % of one core during the fixed-rate run
    lost: int
    refused: int
    errors: int
    harness_cpu: float  # % of one core, this process, during the throughput run


@dataclass
class Results:
    rounds: dict[str, list[Round]] = field(default_factory=dict)

    def add(self, name: str, result: Round) -> None:
        self.rounds.setdefault(name, []).append(result)

    def median(self, name: str, metric: str) -> float:
        values: list[float] = [getattr(r, metric) for r in self.rounds[name]]
        return statistics.median(values)


def _updates(fake: FakeTelegram, chats: list[int]) -> list[dict[str, Any]]:
    return [
        fake.make_message_update(chat, COMMANDS[i % len(COMMANDS)]) for i, chat in enumerate(chats)
    ]


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def _throughput(
    bot: BotProcess,
    fake: FakeTelegram,
    http: aiohttp.ClientSession,
    chats: list[int],
    concurrency: int,
) -> tuple[float, float, int, int, int, float]:
    """(updates/s, CPU ms per update, lost, refused, fake errors, harness CPU %)."""
    batch = _updates(fake, chats)
    replies = Replies(fake)
    pending: Iterator[dict[str, Any]] = iter(batch)
    statuses: list[int] = []

    async def connection() -> None:
        for update in pending:
            statuses.append(await bot.post(http, update))

    cpu_before, harness_before = bot.cpu_seconds(), time.process_time()
    started = time.monotonic()
    posting = asyncio.gather(*(connection() for _ in range(concurrency)))
    await replies.wait_for(chats)
    await posting
    harness = time.process_time() - harness_before
    cpu = await settled_cpu_seconds(bot) - cpu_before
    answered = [replies.first[chat] for chat in chats if chat in replies.first]
    elapsed = (max(answered) if answered else time.monotonic()) - started
    lost = len(chats) - len(answered)
    refused = sum(status != 200 for status in statuses)
    return (
        len(answered) / elapsed,
        cpu / len(chats) * 1000,
        lost,
        refused,
        replies.errors,
        harness / elapsed * 100,
    )


async def _latency(
    bot: BotProcess,
    fake: FakeTelegram,
    http: aiohttp.ClientSession,
    chats: list[int],
    rate: float,
) -> tuple[float, float, float, int, int, int]:
    """(p50 ms, p99 ms, bot CPU % of a core, lost, refused, fake errors)."""
    batch = _updates(fake, chats)
    replies = Replies(fake)
    posted_at: dict[int, float] = {}
    posts: list[asyncio.Task[int]] = []
    cpu_before = bot.cpu_seconds()
    started = time.monotonic()
    for index, (chat, update) in enumerate(zip(chats, batch, strict=True)):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        posted_at[chat] = time.monotonic()
        posts.append(asyncio.create_task(bot.post(http, update)))
    await replies.wait_for(chats)
    statuses = await asyncio.gather(*posts)
    elapsed = time.monotonic() - started
    cpu = bot.cpu_seconds() - cpu_before
    latencies = [
        (replies.first[chat] - posted_at[chat]) * 1000 for chat in chats if chat in replies.first
    ]
    return (
        _percentile(latencies, 0.50),
        _percentile(latencies, 0.99),
        cpu / elapsed * 100,
        len(chats) - len(latencies),
        sum(status != 200 for status in statuses),
        replies.errors,
    )


async def _round(
    bot: BotProcess,
    fake: FakeTelegram,
    http: aiohttp.ClientSession,
    ids: ChatIds,
    args: argparse.Namespace,
) -> Round:
    rate, cpu_ms, lost, refused, errors, harness = await _throughput(
        bot, fake, http, ids.take(args.updates), args.concurrency
    )
    await asyncio.sleep(0.5)
    p50, p99, load_cpu, lost_l, refused_l, errors_l = await _latency(
        bot, fake, http, ids.take(args.latency_updates), args.rate
    )
    await settled_cpu_seconds(bot)
    return Round(
        rate,
        cpu_ms,
        p50,
        p99,
        load_cpu,
        lost + lost_l,
        refused + refused_l,
        errors + errors_l,
        harness,
    )


def _print_round(number: int, name: str, r: Round) -> None:
    print(
        f"round {number} {name:5}: {r.throughput:7.1f} updates/s, {r.cpu_ms:6.2f} ms CPU/update "
        f"(harness {r.harness_cpu:3.0f} % CPU); at fixed load p50 {r.p50_ms:6.1f} ms, "
        f"p99 {r.p99_ms:6.1f} ms, bot CPU {r.load_cpu:3.0f} %; lost {r.lost}, "
        f"refused {r.refused}, API errors {r.errors}",
        flush=True,
    )


def _print_table(results: Results, args: argparse.Namespace) -> None:
    rows = (
        ("throughput (updates/s)", "throughput", "{:10.1f}"),
        ("CPU per update (ms)", "cpu_ms", "{:10.2f}"),
        (f"latency p50 at {args.rate:g}/s (ms)", "p50_ms", "{:10.1f}"),
        (f"latency p99 at {args.rate:g}/s (ms)", "p99_ms", "{:10.1f}"),
        (f"bot CPU at {args.rate:g}/s (% core)", "load_cpu", "{:10.1f}"),
        ("harness CPU, throughput (%)", "harness_cpu", "{:10.0f}"),
    )
    print(
        f"\nmedian of {args.rounds} round(s); {args.updates} updates (throughput), "
        f"{args.latency_updates} at {args.rate:g}/s (latency), concurrency {args.concurrency}"
    )
    print(f"{'':32}{'coach':>10}{'echo':>10}{'coach/echo':>12}")
    for label, metric, number in rows:
        coach, echo = results.median("coach", metric), results.median("echo", metric)
        ratio = coach / echo if echo else float("nan")
        print(f"{label:32}{number.format(coach)}{number.format(echo)}{ratio:12.2f}")
    for name in ("coach", "echo"):
        if args.rate > results.median(name, "throughput"):
            print(
                f"{name}: {args.rate:g}/s is more than its throughput, so its latency is "
                "the time in a growing queue; try a --rate below it"
            )
    for name in ("coach", "echo"):
        lost = sum(r.lost for r in results.rounds[name])
        refused = sum(r.refused for r in results.rounds[name])
        errors = sum(r.errors for r in results.rounds[name])
        print(f"{name}: lost {lost}, refused {refused}, API errors {errors} over all rounds")


async def _run(args: argparse.Namespace, folder: Path) -> None:
    database_url = args.database_url or f"sqlite+aiosqlite:///{folder / 'coach.db'}"
    ids = ChatIds()
    results = Results()
    async with (
        FakeTelegram() as fake,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
    ):
        bots = [
            await start_coach(fake.base_url, fake.token, database_url, folder),
            await start_echo(fake.base_url, fake.token, folder),
        ]
        try:
            for bot in bots:
                await bot.wait_healthy(http)
                await _throughput(bot, fake, http, ids.take(WARMUP_UPDATES), args.concurrency)
                await settled_cpu_seconds(bot)
            for number in range(1, args.rounds + 1):
                for bot in bots:
                    result = await _round(bot, fake, http, ids, args)
                    results.add(bot.name, result)
                    _print_round(number, bot.name, result)
        finally:
            for bot in bots:
                await bot.stop()
    _print_table(results, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000, help="per throughput run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=100, help="fixed offered load, per s")
    parser.add_argument("--latency-updates", type=int, default=1000, help="per latency run")
    parser.add_argument("--concurrency", type=int, default=32, help="POSTs in flight")
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(args, Path(folder)))


if __name__ == "__main__":
    main()
