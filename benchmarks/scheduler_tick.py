"""How long the scheduler's fixed jobs take for many users, on a real SQLite file.

    .venv/bin/python -m benchmarks.scheduler_tick --users 10000

Prints the planner tick (the first one writes today's and tomorrow's rows, later ones
find them all present) and how fast the dispatcher can claim due rows under a lease.
Sending is not included: that is bound by the channel's rate limit, not by the database.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time as timer
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade
from bot.db.models import User
from bot.db.schedule import DeliveryRepository
from scheduler.planner import plan_daily

ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
CLAIM_BATCH = 100
LEASE = timedelta(minutes=2)


def _users(count: int, now: datetime) -> list[dict[str, object]]:
    return [
        {
            "channel": "telegram",
            "external_id": str(100_000 + i),
            "display_name": f"User {i}",
            "timezone": ZONES[i % len(ZONES)],
            "daily_time": time(6 + i % 15, (i * 7) % 60),
            "created_at": now,
            "last_active_at": now,
        }
        for i in range(count)
    ]


async def _run(users: int, database: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await upgrade(engine)
    sessions = create_session_factory(engine)
    now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    async with sessions() as session, session.begin():
        await session.execute(insert(User), _users(users, now))

    timings = []
    for _ in range(3):
        started = timer.perf_counter()
        async with sessions() as session, session.begin():
            written = await plan_daily(session, now)
        timings.append((timer.perf_counter() - started, written))
    for run, (seconds, written) in enumerate(timings, start=1):
        print(f"planner tick {run}: {seconds * 1000:8.1f} ms, {written} new rows")

    # Everything planned for the next two days falls due at once: the worst burst.
    later = now + timedelta(days=2)
    claimed = 0
    started = timer.perf_counter()
    while True:
        async with sessions() as session, session.begin():
            claims = DeliveryRepository(session)
            batch = await claims.claim_due(later, LEASE, CLAIM_BATCH, channels=["telegram"])
        if not batch:
            break
        claimed += len(batch)
    seconds = timer.perf_counter() - started
    print(f"dispatcher claims: {claimed} rows in {seconds * 1000:.1f} ms", end=" ")
    print(f"({claimed / seconds:,.0f} rows/s, up to {CLAIM_BATCH} users a batch)")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"users: {args.users} (SQLite, WAL)")
        asyncio.run(_run(args.users, Path(folder) / "bench.db"))


if __name__ == "__main__":
    main()
