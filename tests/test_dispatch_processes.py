"""Two dispatchers on one database, with everyone due at the same moment: each user gets
their due rows once, together, in one message, and neither dispatcher waits for the other
to finish claiming."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, insert, select

from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade
from bot.db.models import Delivery, User
from bot.db.schedule import DeliveryRepository
from content.loader import load_library
from handlers.types import Reply
from scheduler.dispatcher import LEASE
from scheduler.store import delivery_row, encode_reply
from tests.fakes.telegram_api import FakeTelegram

USERS = 2000
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09.00 WIB: no quiet hours in the way
FIRST_CHAT = 10_000


async def _seed(database_url: str, users: int = USERS) -> None:
    """Every user has a daily tip and two waiting replies due now."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        sessions = create_session_factory(engine)
        async with sessions() as session, session.begin():
            await session.execute(
                insert(User),
                [
                    {
                        "channel": "telegram",
                        "external_id": str(FIRST_CHAT + i),
                        "display_name": "Rina",
                        "daily_time": time(9, 0),
                        "created_at": NOW - timedelta(days=3),
                        "last_active_at": NOW - timedelta(minutes=1),
                    }
                    for i in range(users)
                ],
            )
            ids = dict((await session.execute(select(User.external_id, User.id))).all())
            rows = []
            for chat, user_id in ids.items():
                rows.append(
                    delivery_row(
                        user_id=user_id,
                        kind="tip",
                        dedupe_key=f"tip:{user_id}:2026-12-01",
                        due_at=NOW,
                        expires_at=NOW + timedelta(hours=2),
                        now=NOW - timedelta(days=1),
                    )
                )
                for part in ("first", "second"):
                    rows.append(
                        delivery_row(
                            user_id=user_id,
                            kind="reply",
                            dedupe_key=f"reply:{user_id}:{part}",
                            due_at=NOW,
                            expires_at=NOW + timedelta(hours=12),
                            now=NOW - timedelta(minutes=2 if part == "first" else 1),
                            payload=encode_reply(Reply(f"Balasan {part} untuk {chat}")),
                        )
                    )
            await DeliveryRepository(session).add_if_absent(rows)
    finally:
        await engine.dispose()


async def _start_worker(
    database_url: str, api_url: str, now: datetime = NOW
) -> asyncio.subprocess.Process:
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.dispatch_worker",
        database_url,
        api_url,
        now.isoformat(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert worker.stdout is not None
    assert (await asyncio.wait_for(worker.stdout.readline(), 60)).strip() == b"ready"
    return worker


async def test_two_dispatcher_processes_split_users_never_a_users_rows(
    database_url: str,
) -> None:
    await _seed(database_url)
    async with FakeTelegram() as telegram:
        workers = [await _start_worker(database_url, telegram.base_url) for _ in range(2)]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        outputs = [await asyncio.wait_for(w.communicate(), 300) for w in workers]
        messages = telegram.sent()

    assert [w.returncode for w in workers] == [0, 0]
    sent = [int(out.decode().split()[-1]) for out, _ in outputs]
    assert all(count > 0 for count in sent), sent  # both dispatchers did their share
    assert sum(sent) == USERS
    daily_header = load_library().messages.render("daily_header")
    by_chat: dict[int, list[str]] = {}
    for message in messages:
        by_chat.setdefault(message["chat_id"], []).append(message["text"])
    assert set(by_chat) == {FIRST_CHAT + i for i in range(USERS)}  # nobody lost
    split = {chat: texts for chat, texts in by_chat.items() if len(texts) != 1}
    assert split == {}  # nobody got two messages, nothing sent twice
    for chat, (text,) in by_chat.items():
        first = text.index(f"Balasan first untuk {chat}")
        assert first < text.index(f"Balasan second untuk {chat}")
        assert daily_header in text  # the tip came in the same message

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            statuses = (await connection.execute(select(Delivery.status).distinct())).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in statuses] == [("sent",)]


async def _statuses(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            )
            return {status: count for status, count in rows.all()}
    finally:
        await engine.dispose()


async def test_a_dispatcher_killed_mid_pass_leaves_nothing_undelivered(
    database_url: str,
) -> None:
    """SIGKILL while messages are on the wire: once the lease has run out, the next
    dispatcher sends everything that was not recorded as sent. A user may get a message
    twice only if it was on the wire when the process died."""
    users = 600
    await _seed(database_url, users=users)
    async with FakeTelegram() as telegram:
        telegram.delays["sendMessage"] = 0.05  # a slow Bot API keeps sends in flight
        first = await _start_worker(database_url, telegram.base_url)
        assert first.stdin is not None
        first.stdin.write(b"go\n")
        await first.stdin.drain()
        await telegram.wait_for_sent(users // 3, timeout=60)
        for _ in range(500):  # until the first batch is recorded: the kill is mid-pass
            if (await _statuses(database_url)).get("sent"):
                break
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        await asyncio.sleep(0.2)  # answers to the requests the dead process left behind
        sent_before = {m["chat_id"] for m in telegram.sent()}
        recorded = (await _statuses(database_url)).get("sent", 0) // 3  # 3 rows per user
        assert 0 < recorded < users
        in_flight = len(sent_before) - recorded

        # The next dispatcher starts after the dead one's lease ran out.
        second = await _start_worker(
            database_url, telegram.base_url, NOW + LEASE + timedelta(minutes=1)
        )
        assert second.stdin is not None
        second.stdin.write(b"go\n")
        await second.stdin.drain()
        await asyncio.wait_for(second.communicate(), 300)
        by_chat: dict[int, int] = {}
        for message in telegram.sent():
            by_chat[message["chat_id"]] = by_chat.get(message["chat_id"], 0) + 1

    assert set(by_chat) == {FIRST_CHAT + i for i in range(users)}  # nobody lost
    duplicates = sum(count - 1 for count in by_chat.values())
    print(f"killed with {in_flight} sends in flight; {duplicates} users got a message twice")
    assert duplicates <= in_flight
    assert max(by_chat.values()) <= 2
    assert await _statuses(database_url) == {"sent": 3 * users}


async def test_a_claim_next_to_an_open_one_takes_the_next_users(database_url: str) -> None:
    """While one dispatcher's claim is not committed yet, a second one claims other users,
    all of each user's rows. (PostgreSQL claims side by side; SQLite, with one writer,
    makes the second claim wait for the first.)"""
    await _seed(database_url, users=10)
    engine, other_engine = create_engine(database_url), create_engine(database_url)
    try:
        first_session = create_session_factory(engine)()
        async with first_session, first_session.begin():
            first = await DeliveryRepository(first_session).claim_due(
                NOW, timedelta(minutes=2), 4, channels=["telegram"]
            )

            async def claim_beside() -> list[Delivery]:
                async with create_session_factory(other_engine)() as session, session.begin():
                    return await DeliveryRepository(session).claim_due(
                        NOW, timedelta(minutes=2), 4, channels=["telegram"]
                    )

            second_task = asyncio.create_task(claim_beside())
            await asyncio.sleep(0.3)  # the second claim runs while the first is open
        second = await second_task
    finally:
        await engine.dispose()
        await other_engine.dispose()

    def users_of(rows: list[Delivery]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for row in rows:
            counts[row.user_id] = counts.get(row.user_id, 0) + 1
        return counts

    first_users, second_users = users_of(first), users_of(second)
    assert len(first_users) == len(second_users) == 4
    assert not set(first_users) & set(second_users)
    assert set(first_users.values()) == set(second_users.values()) == {3}
