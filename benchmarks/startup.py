"""Time from spawning the process to its first `GET /healthz` 200: the coach
(`interview-coach run`, webhook mode) against the aiogram echo bot (`benchmarks.echo_bot`),
both on the fake Bot API over loopback.

    .venv/bin/python -m benchmarks.startup [--rounds 5] [--database-url URL]

The coach's /healthz answers once the web app is up, after the database is migrated, the
content loaded, the command menu set and the journal's unfinished updates started; the echo
bot's once aiohttp's startup (setWebhook) has run. The coach is timed on a database that
is already migrated (a restart) and on a new SQLite file each round (the first start,
all migrations). One unmeasured start of each comes first (bytecode caches). Prints
every start, then the medians and coach/echo.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from functools import partial
from pathlib import Path

import aiohttp

from benchmarks.processes import BotProcess, start_coach, start_echo
from tests.fakes.telegram_api import FakeTelegram

ECHO = "echo bot"
COACH = "coach, migrated database"
COACH_NEW = "coach, new database"


async def _time_start(bot: BotProcess, http: aiohttp.ClientSession) -> float:
    try:
        healthy = await bot.wait_healthy(http)
    finally:
        await bot.stop()
    return healthy - bot.spawned_at


async def _run(rounds: int, database_url: str, folder: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {ECHO: [], COACH: [], COACH_NEW: []}
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        api, token = fake.base_url, fake.token
        migrated = database_url or f"sqlite+aiosqlite:///{folder / 'coach.db'}"
        # Unmeasured: writes the bytecode caches, and migrates `migrated`.
        await _time_start(await start_echo(api, token, folder), http)
        await _time_start(await start_coach(api, token, migrated, folder), http)
        for number in range(1, rounds + 1):
            new = f"sqlite+aiosqlite:///{folder / f'new-{number}.db'}"
            starts = (
                (ECHO, partial(start_echo, api, token, folder)),
                (COACH, partial(start_coach, api, token, migrated, folder)),
                (COACH_NEW, partial(start_coach, api, token, new, folder)),
            )
            for name, start in starts:
                seconds = await _time_start(await start(), http)
                times[name].append(seconds)
                print(f"round {number} {name:26} {seconds * 1000:7.0f} ms", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--database-url", default="", help="the migrated database; default a temporary SQLite"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        times = asyncio.run(_run(args.rounds, args.database_url, Path(folder)))
    echo = statistics.median(times[ECHO])
    print(f"\nmedian of {args.rounds} start(s), spawn to the first /healthz 200")
    print(f"{'':28}{'ms':>8}{'/ echo':>9}")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"{name:28}{median * 1000:8.0f}{median / echo:9.2f}")


if __name__ == "__main__":
    main()
