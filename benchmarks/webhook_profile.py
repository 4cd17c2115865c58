"""Where the coach's time goes on the webhook path: the real `interview-coach run` process
(webhook mode, send limiter lifted, SQLite) on the fake Bot API, measured three ways.

    .venv/bin/python -m benchmarks.webhook_profile [--updates 1000] [--output FILE]

The process is started through this module (`--child`), which counts every SQL statement
and transaction (SQLAlchemy's `before_cursor_execute`, `commit`, ... on all engines) and
can switch on, by signal, a stack sampler or cProfile. After a warm-up, `--updates`
updates (a chat of their own each; "/tips", "/bantuan", "/jadwal" in turn) are posted
three times:

1. plain: CPU per update (main thread and the others, from /proc) and SQL per update;
2. sampled: SIGPROF every millisecond of CPU time records the event loop thread's
   stack, greenlets included (SQLAlchemy runs its sync core in one), so each sample says
   which step of an update the loop was in (journal insert, the update's transaction,
   lease, send, mark sent, ...) and in which package, with times that add up;
3. cProfile: own time per function (reliable) and the top 40 by cumulative time (not:
   asyncio resumes a coroutine many times and greenlets switch stacks, so cumulative
   times of coroutines and of SQLAlchemy's greenlet entry points add up to more than
   the run).

Writes to `--output` (default /tmp/profile_webhook.txt), with the coach's log, its
database and the .prof file beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import io
import json
import pstats
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp

from benchmarks.processes import BotProcess, cpu_seconds, settled_cpu_seconds, start_coach
from benchmarks.webhook import ChatIds, _throughput
from tests.fakes.telegram_api import FakeTelegram

WARMUP_UPDATES = 200
CONCURRENCY = 32
COUNTERS = "counters.json"
SAMPLES = "samples.json"
PROFILE = "webhook.prof"
DUMPED = "dumped"
SAMPLE_EVERY_SECONDS = 0.001
IDLE = "idle (event loop waiting in epoll)"
# The steps of an update, innermost first: a sample counts for the first one its stack
# is in.
STEPS = (
    ("/handlers/router.py", "handle_in", "the update's transaction: the coach (handlers)"),
    ("/bot/inbound/worker.py", "_store", "the update's transaction: claim, user, outbox, commit"),
    ("/bot/inbound/worker.py", "_record", "group commit: journal inserts of waiting webhooks"),
    ("/bot/inbound/worker.py", "_record_outcomes", "group commit: send marks of waiting replies"),
    ("/bot/db/group_commit.py", "_drain", "group commit: session, begin, commit"),
    ("/bot/inbound/worker.py", "accept", "webhook: waiting for its journal commit (accept)"),
    ("/bot/channels/telegram/webhook.py", "handle", "webhook: secret, JSON, answer"),
    ("/bot/channels/telegram/adapter.py", "decode", "decode: aiogram Update from the journal"),
    ("/bot/inbound/worker.py", "_renew", "renew the outbox lease (transaction)"),
    ("/bot/channels/telegram/adapter.py", "reply", "send: render, sender, aiogram sendMessage"),
    ("/bot/inbound/worker.py", "_finish", "waiting for the send mark's commit (_finish)"),
    ("/scheduler/", "", "scheduler (background)"),
    ("/bot/web.py", "healthz", "healthz"),
    ("/aiohttp/web_protocol.py", "", "aiohttp server outside the handler (parse, access log)"),
    ("/aiohttp/", "", "aiohttp, other (client responses)"),
)

# --------------------------------------------------------------------------- categories


def _category(filename: str, name: str) -> str:
    """The package a function belongs to; C functions (cProfile's "~") by their name."""
    if filename == "~":
        if "epoll" in name or ("select" in name and "poll" in name):
            return IDLE
        builtins = (
            ("sqlite3", "sqlite3 (C)"),
            ("_queue.SimpleQueue", "aiosqlite"),  # each call handed to its thread
            ("_socket", "socket I/O"),
            ("_ssl", "socket I/O"),
            ("_contextvars", "asyncio"),
            ("_asyncio", "asyncio"),
            ("re.Pattern", "regex"),
            ("_sre", "regex"),
            ("pydantic_core", "pydantic"),
            ("SchemaValidator", "pydantic"),
            ("SchemaSerializer", "pydantic"),
            ("json", "json"),
            ("greenlet", "greenlet"),
        )
        return next((c for marker, c in builtins if marker in name), "other builtins (C)")
    path = filename.replace("\\", "/")
    packages = (
        ("/sqlalchemy/", "SQLAlchemy"),
        ("<sqlalchemy", "SQLAlchemy"),
        ("/aiosqlite/", "aiosqlite"),
        ("/sqlite3/", "sqlite3"),
        ("/aiogram/", "aiogram"),
        ("/pydantic", "pydantic"),
        ("/aiohttp/", "aiohttp"),
        ("/multidict/", "aiohttp"),
        ("/yarl/", "aiohttp"),
        ("/asyncio/", "asyncio"),
        ("/selectors.py", "asyncio"),
        ("/logging/", "logging"),
        ("/json/", "json"),
        ("/greenlet/", "greenlet"),
        ("/aiolimiter/", "aiolimiter"),
        ("/apscheduler/", "apscheduler"),
        ("/prometheus_client/", "prometheus_client"),
    )
    for marker, category in packages:
        if marker in path:
            return category
    for project in ("bot", "handlers", "content", "scheduler"):
        if f"/{project}/" in path and "site-packages" not in path:
            return f"project: {project}/"
    if "site-packages" in path:
        return "other packages"
    return "other stdlib"


def _step(stack: list[tuple[str, str]]) -> str:
    """`stack` innermost first, as (filename, function)."""
    for path, name, step in STEPS:
        for filename, function in stack:
            if path in filename and (not name or function == name):
                return step
    return "event loop, other"


# --------------------------------------------------------------------------- child


def _shape(statement: str) -> str:
    """A statement with its column lists elided, for counting by shape."""
    text = " ".join(statement.split())
    text = re.sub(r"^SELECT .+? FROM ", "SELECT … FROM ", text)
    text = re.sub(
        r"^INSERT INTO (\S+) \(.*?\) VALUES \(.*?\)", r"INSERT INTO \1 (…) VALUES (…)", text
    )
    text = re.sub(r" RETURNING .*$", " RETURNING …", text)
    text = re.sub(r"\((?:\?, )+\?\)", "(?, …)", text)
    return text[:240]


@dataclass
class _Samples:
    count: int = 0
    idle: float = 0.0
    busy: float = 0.0
    inclusive: dict[str, float] = field(default_factory=dict)
    leaf: dict[str, float] = field(default_factory=dict)
    own: dict[str, float] = field(default_factory=dict)
    steps: dict[str, dict[str, float]] = field(default_factory=dict)


class _Sampler:
    """A statistical profiler: SIGPROF every `SAMPLE_EVERY_SECONDS` of the process's CPU
    time; Python runs the handler in the event loop's thread at its next bytecode, with
    the frame it was in (a sample where it waits in epoll is idle). The kernel's timer
    ticks coarser than asked (every 4 ms at HZ=250): a sample weighs the process's CPU
    time since the one before."""

    def __init__(self, main_greenlet: Any) -> None:
        self._main_greenlet = main_greenlet
        self.samples = _Samples()
        self._last = 0.0

    def start(self) -> None:
        self.samples = _Samples()
        self._last = time.process_time()
        signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, SAMPLE_EVERY_SECONDS, SAMPLE_EVERY_SECONDS)

    def stop(self) -> _Samples:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, signal.SIG_IGN)
        return self.samples

    def _stack(self, frame: FrameType | None) -> list[tuple[str, str]]:
        stack: list[tuple[str, str]] = []
        jumped = False
        while frame is not None and len(stack) < 1000:
            stack.append((frame.f_code.co_filename, frame.f_code.co_name))
            frame = frame.f_back
            if frame is None and not jumped and stack[-1][1] != "<module>":
                # The bottom of a greenlet (SQLAlchemy's sync core): go on where the
                # main greenlet switched to it (None while the main greenlet runs).
                frame, jumped = self._main_greenlet.gr_frame, True
        return stack

    def _sample(self, _signum: int, frame: FrameType | None) -> None:
        now = time.process_time()
        weight, self._last = now - self._last, now
        stack = self._stack(frame)
        if not stack:
            return
        samples = self.samples
        samples.count += 1
        filename, function = stack[0]
        if filename.endswith("/selectors.py") and function == "select":
            samples.idle += weight
            return
        samples.busy += weight
        for filename, function in set(stack):
            _add(samples.inclusive, f"{_short(filename)}:{function}", weight)
        leaf = _category(*stack[0])
        _add(samples.leaf, leaf, weight)
        _add(samples.own, f"{_short(stack[0][0])}:{stack[0][1]}", weight)
        _add(samples.steps.setdefault(_step(stack), {}), leaf, weight)


def _add(totals: dict[str, float], key: str, weight: float) -> None:
    totals[key] = totals.get(key, 0.0) + weight


def _short(filename: str) -> str:
    for marker in ("site-packages/", "python3.11/", "/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _child(folder: Path) -> int:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from bot.cli import main

    counters: dict[str, Counter[str]] = {"statements": Counter(), "events": Counter()}
    profiler = cProfile.Profile()
    # SQLAlchemy's dependency; untyped.
    greenlet: Any = importlib.import_module("greenlet")
    sampler = _Sampler(greenlet.getcurrent())

    def on_execute(*args: Any) -> None:
        counters["statements"][_shape(args[2])] += 1

    def on_event(name: str) -> Any:
        def count(*_args: Any) -> None:
            counters["events"][name] += 1

        return count

    event.listen(Engine, "before_cursor_execute", on_execute)
    for name in ("begin", "commit", "rollback"):
        event.listen(Engine, name, on_event(name))

    def dump_counters() -> None:
        (folder / COUNTERS).write_text(json.dumps(counters))
        for counter in counters.values():
            counter.clear()
        (folder / DUMPED).touch()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            dump_counters()
        elif signum == signal.SIGUSR1:
            profiler.enable()
        elif signum == signal.SIGUSR2:
            profiler.disable()
            profiler.dump_stats(folder / PROFILE)
            dump_counters()
        elif signum == signal.SIGRTMIN:
            sampler.start()
        elif signum == signal.SIGRTMIN + 1:
            samples = sampler.stop()
            (folder / SAMPLES).write_text(json.dumps(samples.__dict__))
            dump_counters()

    for signum in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, handler)
    signal.signal(signal.SIGRTMIN, handler)
    signal.signal(signal.SIGRTMIN + 1, handler)
    return main(["run"])


# --------------------------------------------------------------------------- parent


async def _signal_and_wait(bot: BotProcess, folder: Path, signum: int) -> dict[str, Any]:
    marker = folder / DUMPED
    marker.unlink(missing_ok=True)
    bot.process.send_signal(signum)
    for _ in range(6000):
        if marker.exists():
            counters: dict[str, Any] = json.loads((folder / COUNTERS).read_text())
            return counters
        await asyncio.sleep(0.01)
    raise RuntimeError("the coach did not write its counters")


@dataclass
class _Run:
    rate: float
    lost: int
    refused: int
    errors: int

    def __str__(self) -> str:
        return (
            f"{self.rate:.1f} updates/s; lost {self.lost}, refused {self.refused}, "
            f"API errors {self.errors}"
        )


async def _run(
    bot: BotProcess, fake: FakeTelegram, http: aiohttp.ClientSession, ids: ChatIds, n: int
) -> _Run:
    rate, _, lost, refused, errors, _ = await _throughput(bot, fake, http, ids.take(n), CONCURRENCY)
    await settled_cpu_seconds(bot)
    return _Run(rate, lost, refused, errors)


@dataclass
class Measured:
    updates: int
    runs: dict[str, _Run]
    cpu: dict[str, float]
    counters: dict[str, dict[str, int]]
    samples: dict[str, Any]


async def _parent(updates: int, output: Path, folder: Path) -> Measured:
    database_url = f"sqlite+aiosqlite:///{folder / 'coach.db'}"
    command = [sys.executable, "-m", "benchmarks.webhook_profile", "--child", str(folder)]
    ids = ChatIds()
    runs: dict[str, _Run] = {}
    async with (
        FakeTelegram() as fake,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
    ):
        bot = await start_coach(fake.base_url, fake.token, database_url, folder, command=command)
        pid = bot.process.pid
        try:
            await bot.wait_healthy(http)
            await _run(bot, fake, http, ids, WARMUP_UPDATES)

            await _signal_and_wait(bot, folder, signal.SIGHUP)  # counters from zero
            total, main = cpu_seconds(pid), cpu_seconds(pid, thread=pid)
            runs["plain"] = await _run(bot, fake, http, ids, updates)
            cpu = {
                "total": (cpu_seconds(pid) - total) / updates,
                "main": (cpu_seconds(pid, thread=pid) - main) / updates,
            }
            cpu["others"] = cpu["total"] - cpu["main"]
            counters = await _signal_and_wait(bot, folder, signal.SIGHUP)
            print(f"plain:     {runs['plain']}, {cpu['total'] * 1000:.2f} ms CPU/update")

            bot.process.send_signal(signal.SIGRTMIN)
            runs["sampled"] = await _run(bot, fake, http, ids, updates)
            await _signal_and_wait(bot, folder, signal.SIGRTMIN + 1)
            samples: dict[str, Any] = json.loads((folder / SAMPLES).read_text())
            print(f"sampled:   {runs['sampled']}")

            bot.process.send_signal(signal.SIGUSR1)
            runs["cProfile"] = await _run(bot, fake, http, ids, updates)
            await _signal_and_wait(bot, folder, signal.SIGUSR2)
            print(f"cProfile:  {runs['cProfile']}")
        finally:
            await bot.stop()
            shutil.copyfile(bot.log_path, output.with_suffix(".log"))
            shutil.copyfile(folder / "coach.db", output.with_suffix(".db"))
            if (folder / PROFILE).exists():
                shutil.copyfile(folder / PROFILE, output.with_suffix(".prof"))
    return Measured(updates, runs, cpu, counters, samples)


# --------------------------------------------------------------------------- report


def _by_category(stats: pstats.Stats) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        category = _category(filename, name)
        totals[category] = totals.get(category, 0.0) + tottime
    return sorted(totals.items(), key=lambda item: -item[1])


def _pstats_text(stats: pstats.Stats, order: str, limit: int) -> str:
    text = io.StringIO()
    stats.stream = text  # type: ignore[attr-defined]
    stats.sort_stats(order).print_stats(limit)
    lines = text.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return "\n".join(line.replace(str(Path.cwd()) + "/", "") for line in lines[start:])


def _section_sql(m: Measured, out: io.StringIO) -> None:
    statements, events = m.counters["statements"], m.counters["events"]
    n = m.updates
    print(f"1. plain run: {m.runs['plain']}", file=out)
    print(
        f"   CPU per update {m.cpu['total'] * 1000:.2f} ms: event loop thread "
        f"{m.cpu['main'] * 1000:.2f} ms, other threads (aiosqlite's connection threads, "
        f"in sqlite3) {m.cpu['others'] * 1000:.2f} ms",
        file=out,
    )
    print(
        f"   SQL statements per update {sum(statements.values()) / n:.2f} in "
        f"{events.get('commit', 0) / n:.2f} transactions (commits; rollbacks "
        f"{events.get('rollback', 0) / n:.2f}); per update, by shape:",
        file=out,
    )
    for shape, count in sorted(statements.items(), key=lambda item: -item[1]):
        print(f"   {count / n:6.2f}  {shape}", file=out)


def _section_samples(m: Measured, out: io.StringIO) -> None:
    s = m.samples
    busy, idle = s["busy"], s["idle"]
    print(
        f"\n2. sampled run: {m.runs['sampled']}; {s['count']} samples of the process's "
        f"CPU time: {busy:.1f} s with the event loop thread in Python code, {idle:.1f} s "
        "with it in epoll (the other threads' CPU)",
        file=out,
    )
    print("   busy time by step of an update (and its top packages, by own time):", file=out)
    steps = sorted(s["steps"].items(), key=lambda item: -sum(item[1].values()))
    for step, leaves in steps:
        total = sum(leaves.values())
        top = sorted(leaves.items(), key=lambda item: -item[1])[:4]
        parts = ", ".join(f"{name} {seconds / total * 100:.0f} %" for name, seconds in top)
        print(f"   {total / busy * 100:5.1f} %  {step}  [{parts}]", file=out)
    print("   busy time by package (own time):", file=out)
    for name, seconds in sorted(s["leaf"].items(), key=lambda item: -item[1]):
        print(f"   {seconds / busy * 100:5.1f} %  {name}", file=out)
    print("   top 25 functions by own time (% of busy):", file=out)
    for name, seconds in sorted(s["own"].items(), key=lambda item: -item[1])[:25]:
        print(f"   {seconds / busy * 100:5.1f} %  {name}", file=out)
    print("   top 40 functions by inclusive busy time (% of busy):", file=out)
    inclusive = sorted(s["inclusive"].items(), key=lambda item: -item[1])[:40]
    for name, seconds in inclusive:
        print(f"   {seconds / busy * 100:5.1f} %  {name}", file=out)


def _section_profile(m: Measured, stats: pstats.Stats, out: io.StringIO) -> None:
    by_category = _by_category(stats)
    idle = dict(by_category).get(IDLE, 0.0)
    busy = sum(seconds for _, seconds in by_category) - idle
    print(
        f"\n3. cProfile run (event loop thread only): {m.runs['cProfile']}; "
        f"busy {busy:.1f} s, idle {idle:.1f} s",
        file=out,
    )
    print("   busy time by package (own time of its functions):", file=out)
    for category, seconds in by_category:
        if category != IDLE:
            print(f"   {seconds / busy * 100:5.1f} %  {seconds:6.2f} s  {category}", file=out)
    print("\n--- cProfile: top 30 by own time (tottime) ---", file=out)
    print(_pstats_text(stats, "tottime", 30), file=out)
    print("\n--- cProfile: top 40 by cumulative time (see the note at the top) ---", file=out)
    print(_pstats_text(stats, "cumulative", 40), file=out)


def _report(m: Measured, stats: pstats.Stats) -> str:
    out = io.StringIO()
    print(
        f"The coach's webhook path: {m.updates} updates per run ('/tips', '/bantuan', "
        f"'/jadwal'; a new user each), SQLite, send limiter lifted, {CONCURRENCY} POSTs in "
        "flight\n",
        file=out,
    )
    _section_sql(m, out)
    _section_samples(m, out)
    _section_profile(m, stats, out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=Path("/tmp/profile_webhook.txt"))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        sys.exit(_child(args.child))
    with tempfile.TemporaryDirectory() as folder:
        measured = asyncio.run(_parent(args.updates, args.output, Path(folder)))
        stats = pstats.Stats(str(Path(folder) / PROFILE))
        report = _report(measured, stats)
    args.output.write_text(report)
    print(report.split("\n3. cProfile")[0])
    print(f"written to {args.output}; the coach's log, database and profile beside it")


if __name__ == "__main__":
    main()
