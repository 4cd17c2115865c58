"""The daily dispatch of the real bot process: many users due at once, sent through the
fake Bot API over loopback, without a limit and with Telegram's 30/s enforced.

    .venv/bin/python -m benchmarks.dispatch --users 3000

(`--users` defaults to 100,000, which takes about an hour per run at 30/s; `--deadline`
ends a run that can't finish and reports what was sent by then.)

Each run gets a fresh database (a temporary SQLite file, or with `--database-url
postgresql://...` a throwaway `coach_test_*` database on that server, created and
dropped like the test suite's) with N users and one due daily `tip` row each (due a few
seconds ago, expiring 2 hours later, keyed as the planner keys it). The users' zone is
one where it is not quiet hours now, so no daily message is skipped for the night.
Then `interview-coach run` starts as a subprocess on that database and the fake, so its
peak RSS (`VmHWM` in /proc, read just before SIGTERM) is the bot's own. While the
dispatch runs, a new chat sends `/tips` every 0.5 s through getUpdates, and /healthz is
asked every 0.2 s.

Per run it prints: the daily messages sent and their rate (sent / time from the first to
the last), that rate as a fraction of `--rate` (the throttled run), the 429s the fake
answered, duplicates (a chat that got its daily message twice), lost users (none sent by
the end), the time from the bot's start to its first and to its last daily message,
peak RSS, the p50/p99 time from a `/tips` pushed to its reply's sendMessage, and the
p99/max /healthz time. The `/tips` replies share the bot's budget (2 a second), so the
daily rate can reach at most `rate - 2`.

The bot runs the code this module was imported from (its folder is put first on
PYTHONPATH), so a copy of another revision measures that revision.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import sys
import tempfile
import time as timer
from collections import Counter, deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert, text
from sqlalchemy.engine import URL, make_url

from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade
from bot.db.models import Delivery, User
from scheduler.store import delivery_row
from scheduler.timing import DAILY_GRACE, in_quiet_hours, local
from tests.databases import create_database, drop_database
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_harness import free_port

ROOT = Path(__file__).resolve().parents[1]
FIRST_CHAT = 1_000_000  # the users the dispatch is for
FIRST_PROBE_CHAT = 9_000_000  # the chats that send /tips meanwhile, one new chat each time
DUE_AGO = timedelta(seconds=5)
INSERT_CHUNK = 10_000
PROBE_EVERY = 0.5
HEALTH_EVERY = 0.2
HEALTH_TIMEOUT = 10.0
RSS_EVERY = 0.5
WATCH_EVERY = 0.1
# After the last daily message: more than a dispatcher interval (5 s), for a second copy
# and the replies still on their way.
SETTLE_SECONDS = 6.0
STOP_TIMEOUT = 120.0
NOTABLE_LINES = 5
# Indonesia first; any other zone (a whole-hour offset) when it is night there.
CANDIDATE_ZONES = (
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
    *(f"Etc/GMT{-hours:+d}" for hours in range(14, -13, -1)),
)


@dataclass
class Outcome:
    name: str
    users: int
    limit: float | None
    sent: int = 0  # daily messages (duplicates included)
    reached: int = 0  # users with at least one
    duplicates: int = 0
    rate: float = math.nan
    rate_limited: int = 0
    first_after: float = math.nan  # seconds from the bot's start
    all_after: float = math.nan
    peak_rss_mib: float = math.nan
    sampled_rss_mib: float = math.nan
    replies: list[float] = field(default_factory=list)
    probes: int = 0
    health: list[float] = field(default_factory=list)
    health_failures: int = 0
    exit_code: int | None = None
    log_warnings: int = 0
    log_errors: int = 0
    log_tail: deque[str] = field(default_factory=lambda: deque(maxlen=30))
    log_notable: list[str] = field(default_factory=list)  # the first warnings and errors
    stopped_by: str = ""


# --------------------------------------------------------------------------- database


def _awake_zone(now: datetime, span: timedelta) -> str:
    """A zone where no moment of [now, now + span] is in quiet hours."""
    steps = max(1, math.ceil(span / timedelta(minutes=5)))
    for zone in CANDIDATE_ZONES:
        moments = (now + span * i / steps for i in range(steps + 1))
        if not any(in_quiet_hours(moment, zone) for moment in moments):
            return zone
    raise RuntimeError(f"no zone is awake for {span}; use a shorter --deadline")


def _user_rows(start: int, count: int, zone: str, due: datetime) -> list[dict[str, Any]]:
    daily = local(due, zone).time().replace(second=0, microsecond=0)
    joined = due - timedelta(days=30)
    return [
        {
            "channel": "telegram",
            "external_id": str(FIRST_CHAT + i),
            "display_name": f"User {i}",
            "timezone": zone,
            "daily_time": daily,
            "created_at": joined,
            "last_active_at": due - timedelta(days=1),
        }
        for i in range(start, start + count)
    ]


async def _prepare(url: str, users: int, zone: str, now: datetime) -> None:
    """Migrations, then the users and one due daily row each, in bulk."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        sessions = create_session_factory(engine)
        due = now - DUE_AGO
        day = local(due, zone).date().isoformat()
        # The database is new, so user i gets id i + 1: no RETURNING, which is 4x slower.
        for start in range(0, users, INSERT_CHUNK):
            count = min(INSERT_CHUNK, users - start)
            ids = range(start + 1, start + count + 1)
            async with sessions() as session, session.begin():
                rows = _user_rows(start, count, zone, due)
                for user_id, row in zip(ids, rows, strict=True):
                    row["id"] = user_id
                await session.execute(insert(User), rows)
                tips = [
                    delivery_row(
                        user_id=user_id,
                        kind="tip",
                        dedupe_key=f"tip:{user_id}:{day}",
                        due_at=due,
                        expires_at=due + DAILY_GRACE,
                        now=due,
                    )
                    for user_id in ids
                ]
                await session.execute(insert(Delivery), tips)
        if engine.dialect.name == "postgresql":
            # Explicit ids leave the sequence behind: the users the bot creates (the
            # /tips chats) would collide with them.
            async with engine.begin() as connection:
                await connection.execute(
                    text("SELECT setval(pg_get_serial_sequence('users', 'id'), :last)"),
                    {"last": max(users, 1)},
                )
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _database(given: str, folder: Path, name: str) -> AsyncIterator[str]:
    """The URL the run uses: a new SQLite file, or a new database on the given server."""
    if not given:
        yield f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
        return
    admin = make_url(given)
    if admin.get_backend_name() != "postgresql":
        raise SystemExit("--database-url: a PostgreSQL URL (the default is a SQLite file)")
    admin = admin.set(drivername="postgresql+asyncpg")
    url: URL = await create_database(admin)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        await drop_database(admin, url)


# --------------------------------------------------------------------------- the bot


def _bot_command() -> list[str]:
    script = Path(sys.executable).with_name("interview-coach")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


# Settings for the bot under test, from --bot-env (its send budget, paid broadcast).
BOT_ENV: dict[str, str] = {}


async def _start_bot(
    fake: FakeTelegram, database_url: str, port: int, folder: Path
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_"))}
    env.update(BOT_ENV)
    env.update(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_URL=fake.base_url,
        HOST="127.0.0.1",
        PORT=str(port),
        PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
    )
    return await asyncio.create_subprocess_exec(
        *_bot_command(),
        "run",
        env=env,
        cwd=folder,  # no .env from the working tree
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _read_log(process: asyncio.subprocess.Process, outcome: Outcome) -> None:
    assert process.stdout is not None
    async for raw in process.stdout:
        line = raw.decode(errors="replace").rstrip()
        outcome.log_tail.append(line)
        if " WARNING " in line:
            outcome.log_warnings += 1
        elif " ERROR " in line or line.startswith("Traceback"):
            outcome.log_errors += 1
        else:
            continue
        if len(outcome.log_notable) < NOTABLE_LINES:
            outcome.log_notable.append(line)


def _status_mib(pid: int, key: str) -> float:
    """A `VmRSS`/`VmHWM` line of /proc/<pid>/status in MiB (NaN once the process is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    return math.nan


async def _sample_rss(pid: int, stop: asyncio.Event, outcome: Outcome) -> None:
    highest = 0.0
    while not stop.is_set():
        rss = _status_mib(pid, "VmRSS")
        if not math.isnan(rss):
            highest = max(highest, rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RSS_EVERY)
    outcome.sampled_rss_mib = highest


async def _ask_health(port: int, stop: asyncio.Event, outcome: Outcome) -> None:
    """GET /healthz every 0.2 s, from its first answer on (before that it is starting)."""
    url = f"http://127.0.0.1:{port}/healthz"
    answered = False
    timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while not stop.is_set():
            asked = timer.monotonic()
            try:
                async with http.get(url) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            else:
                answered = True
            if answered:
                outcome.health.append(timer.monotonic() - asked)
                outcome.health_failures += not ok
            wait = HEALTH_EVERY - (timer.monotonic() - asked)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(wait, 0))


async def _push_probes(fake: FakeTelegram, stop: asyncio.Event, pushed: dict[int, float]) -> None:
    chat = FIRST_PROBE_CHAT
    while not stop.is_set():
        fake.push_message(chat, "/tips")
        pushed[chat] = timer.monotonic()
        chat += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PROBE_EVERY)


# --------------------------------------------------------------------------- one run


async def _stop_bot(process: asyncio.subprocess.Process) -> int | None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None


async def _run(
    name: str, users: int, limit: float | None, database_url: str, deadline: float, folder: Path
) -> Outcome:
    outcome = Outcome(name, users, limit)
    now = datetime.now(UTC)
    zone = _awake_zone(now, min(timedelta(seconds=deadline), DAILY_GRACE) + timedelta(minutes=5))
    prepared = timer.perf_counter()
    await _prepare(database_url, users, zone, now)
    print(
        f"{name}: {users} users due in {zone}, written in "
        f"{timer.perf_counter() - prepared:.1f} s; starting the bot",
        flush=True,
    )
    daily_chats = range(FIRST_CHAT, FIRST_CHAT + users)
    async with FakeTelegram(max_per_second=limit) as fake:
        port = free_port()
        started = timer.monotonic()
        process = await _start_bot(fake, database_url, port, folder)
        stop, stop_probes = asyncio.Event(), asyncio.Event()
        pushed: dict[int, float] = {}
        reader = asyncio.create_task(_read_log(process, outcome))
        samplers = [
            asyncio.create_task(_sample_rss(process.pid, stop, outcome)),
            asyncio.create_task(_ask_health(port, stop, outcome)),
        ]
        probes: asyncio.Task[None] | None = None
        reached: set[int] = set()
        seen = 0
        done_at: float | None = None
        try:
            while True:
                sent = fake.sent()
                for message in sent[seen:]:
                    if message["chat_id"] in daily_chats:
                        reached.add(message["chat_id"])
                seen = len(sent)
                moment = timer.monotonic()
                if probes is None and reached:
                    probes = asyncio.create_task(_push_probes(fake, stop_probes, pushed))
                if done_at is None and len(reached) == users:
                    done_at = moment
                    stop_probes.set()
                if done_at is not None and moment - done_at >= SETTLE_SECONDS:
                    outcome.stopped_by = "all sent"
                    break
                if moment - started >= deadline:
                    outcome.stopped_by = f"deadline ({deadline:.0f} s)"
                    break
                if process.returncode is not None:
                    outcome.stopped_by = f"the bot exited ({process.returncode})"
                    break
                await asyncio.sleep(WATCH_EVERY)
            outcome.peak_rss_mib = _status_mib(process.pid, "VmHWM")
            stopped = timer.monotonic()
        finally:
            stop.set()
            stop_probes.set()
            await asyncio.gather(*samplers, *([probes] if probes else []))
            outcome.exit_code = await _stop_bot(process)
            await reader
        _tally(outcome, fake, daily_chats, pushed, started, stopped)
    return outcome


def _tally(
    outcome: Outcome,
    fake: FakeTelegram,
    daily_chats: range,
    pushed: dict[int, float],
    started: float,
    stopped: float,
) -> None:
    """What the fake saw up to the stop (sends during the shutdown don't count)."""
    counts: Counter[int] = Counter()
    daily_times: list[float] = []
    first_reply: dict[int, float] = {}
    for message, at in zip(fake.sent(), fake.sent_times, strict=True):
        if at > stopped:
            break
        chat = message["chat_id"]
        if chat in daily_chats:
            counts[chat] += 1
            daily_times.append(at)
        elif chat in pushed and chat not in first_reply:
            first_reply[chat] = at
    outcome.sent = sum(counts.values())
    outcome.reached = len(counts)
    outcome.duplicates = sum(1 for count in counts.values() if count > 1)
    if daily_times:
        outcome.first_after = daily_times[0] - started
        if len(daily_times) > 1 and daily_times[-1] > daily_times[0]:
            outcome.rate = len(daily_times) / (daily_times[-1] - daily_times[0])
        if outcome.reached == outcome.users:
            outcome.all_after = daily_times[-1] - started
    outcome.rate_limited = fake.rate_limited
    outcome.probes = len(pushed)
    outcome.replies = sorted(first_reply[chat] - pushed[chat] for chat in first_reply)


# --------------------------------------------------------------------------- report


def _percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.0f}"


def _seconds(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _rows(outcome: Outcome) -> list[str]:
    fraction = (
        f"{outcome.rate / outcome.limit:.0%}"
        if outcome.limit is not None and not math.isnan(outcome.rate)
        else "-"
    )
    unanswered = outcome.probes - len(outcome.replies)
    replies = (
        f"{_ms(_percentile(outcome.replies, 0.5))} / {_ms(_percentile(outcome.replies, 0.99))}"
    )
    health = (
        f"{_ms(_percentile(outcome.health, 0.99))} / {_ms(max(outcome.health, default=math.nan))}"
    )
    return [
        str(outcome.users),
        f"{outcome.sent} to {outcome.reached} users",
        "-" if math.isnan(outcome.rate) else f"{outcome.rate:.1f}",
        fraction,
        str(outcome.rate_limited),
        str(outcome.duplicates),
        str(outcome.users - outcome.reached),
        _seconds(outcome.first_after),
        _seconds(outcome.all_after),
        f"{outcome.peak_rss_mib:.0f} (sampled {outcome.sampled_rss_mib:.0f})",
        f"{replies} ({len(outcome.replies)}/{outcome.probes}"
        + (f", {unanswered} unanswered)" if unanswered else ")"),
        f"{health} ({len(outcome.health)} asked, {outcome.health_failures} failed)",
        f"{outcome.stopped_by}; exit {outcome.exit_code}",
        f"{outcome.log_warnings} warnings, {outcome.log_errors} errors",
    ]


LABELS = (
    "users",
    "daily messages sent",
    "messages/s (first to last)",
    "fraction of the limit",
    "429 answers",
    "duplicates",
    "lost",
    "first daily message (s)",
    "all sent (s from start)",
    "peak RSS, MiB (VmHWM)",
    "reply p50 / p99, ms",
    "/healthz p99 / max, ms",
    "stopped",
    "bot log",
)


def _table(outcomes: Sequence[Outcome]) -> str:
    columns = [[o.name, *_rows(o)] for o in outcomes]
    labels = ["", *LABELS]
    label_width = max(map(len, labels))
    widths = [max(map(len, column)) for column in columns]
    lines = []
    for i, label in enumerate(labels):
        cells = "  ".join(
            column[i].ljust(width) for column, width in zip(columns, widths, strict=True)
        )
        lines.append(f"{label.ljust(label_width)}  {cells}".rstrip())
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> list[Outcome]:
    runs: list[tuple[str, float | None]] = []
    if args.run in ("both", "unthrottled"):
        runs.append(("unthrottled", None))
    if args.run in ("both", "throttled"):
        runs.append((f"at {args.rate:g}/s", args.rate))
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="coach-dispatch-") as name:
        folder = Path(name)
        for run, limit in runs:
            async with _database(args.database_url, folder, run.replace(" ", "_")) as url:
                outcome = await _run(run, args.users, limit, url, args.deadline, folder)
            outcomes.append(outcome)
            if outcome.exit_code != 0 or outcome.log_errors:
                print(f"{run}: the bot's last lines:", *outcome.log_tail, sep="\n  ")
            elif outcome.log_notable:
                print(f"{run}: the bot's first warnings:", *outcome.log_notable, sep="\n  ")
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=30, help="the fake's limit, sends/s")
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server to create throwaway databases on; default: SQLite files",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=DAILY_GRACE.total_seconds(),
        help="seconds from the bot's start before a run stops (default: the 2 h a daily "
        "message stays valid)",
    )
    parser.add_argument("--run", choices=("both", "unthrottled", "throttled"), default="both")
    parser.add_argument(
        "--bot-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the bot, e.g. TELEGRAM_MESSAGES_PER_SECOND=1000 to see what the "
        "dispatch does without the default 25/s budget",
    )
    args = parser.parse_args()
    BOT_ENV.update(item.split("=", 1) for item in args.bot_env)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"users: {args.users}, {database}, bot: {' '.join(_bot_command())} run ({ROOT})")
    outcomes = asyncio.run(_main(args))
    print()
    print(_table(outcomes))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
