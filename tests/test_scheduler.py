"""The planner and dispatcher with an injected clock, a real SQLite file, and the real
Telegram sender talking to the fake Bot API over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import metrics
from bot.app import App
from bot.channels.telegram.sender import TelegramSender
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import Delivery, User
from bot.db.repositories import UserRepository
from bot.db.schedule import DeliveryRepository
from content.schema import Question
from handlers.types import Inbound, Reply
from scheduler.dispatcher import Dispatcher
from scheduler.engine import SchedulerEngine
from scheduler.store import hold_replies, postpone_replies
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram


class Harness:
    def __init__(self, app: App, clock: FakeClock, fake: FakeTelegram) -> None:
        self.app = app
        self.clock = clock
        self.fake = fake
        self.bot = fake.make_bot()
        self.sender = TelegramSender(self.bot, on_blocked=self._blocked, per_chat_burst=50)
        self.engine = SchedulerEngine(
            app.sessions, app.coach.library, {"telegram": self.sender}, clock
        )

    async def _blocked(self, chat_id: str) -> None:
        async with self.app.sessions() as session, session.begin():
            user = await UserRepository(session).find("telegram", chat_id)
            assert user is not None
            user.blocked = True

    async def say(self, chat_id: int, text: str) -> list[Reply]:
        return await self.app.coach.handle(
            Inbound("telegram", str(chat_id), text=text, display_name="Rina")
        )

    async def user(self, chat_id: int) -> User:
        async with self.app.sessions() as session:
            user = await session.scalar(select(User).where(User.external_id == str(chat_id)))
            assert user is not None
            return user

    async def rows(self, chat_id: int | None = None) -> list[Delivery]:
        async with self.app.sessions() as session:
            query = select(Delivery).order_by(Delivery.due_at, Delivery.id)
            if chat_id is not None:
                query = query.where(Delivery.user_id == (await self.user(chat_id)).id)
            return list(await session.scalars(query))

    async def tick_at(self, moment: datetime) -> None:
        self.clock.now = moment
        await self.engine.tick()

    def question_in(self, text: str) -> Question:
        """The practice question shown in a message."""
        return next(q for q in self.app.coach.library.questions if q.text in text)

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.fake.sent(chat_id)]


@pytest.fixture
async def harness(app: App, clock: FakeClock) -> AsyncIterator[Harness]:
    fake = FakeTelegram()
    await fake.start()
    h = Harness(app, clock, fake)
    try:
        yield h
    finally:
        await h.bot.session.close()
        await fake.stop()


# An answer long enough to be graded.
ANSWER = "Saat itu saya memimpin migrasi database dan hasilnya downtime turun 80%."


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def test_daily_message_arrives_at_local_time_in_each_zone(harness: Harness) -> None:
    # 03.00 WIB = 04.00 WITA = 05.00 WIT on 1 December.
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    for chat, zone in ((1, "WIB"), (2, "WITA"), (3, "WIT")):
        await harness.say(chat, "/pengingat 07.00")
        await harness.say(chat, f"/zona {zone}")
    await harness.engine.tick()
    assert all(harness.texts(chat) == [] for chat in (1, 2, 3))

    # 07.00 WIT is 22.00 UTC, 07.00 WITA 23.00 UTC, 07.00 WIB 00.00 UTC.
    expected = {3: utc(2026, 11, 30, 22, 0), 2: utc(2026, 11, 30, 23, 0), 1: utc(2026, 12, 1, 0, 0)}
    for chat, due in sorted(expected.items(), key=lambda item: item[1]):
        await harness.tick_at(due - timedelta(minutes=1))
        assert harness.texts(chat) == [], f"chat {chat} got its tip early"
        await harness.tick_at(due)
        (text,) = harness.texts(chat)
        assert "Latihan harian" in text and "Soal latihan hari ini" in text
    # Ticking again the same morning sends nothing more.
    await harness.tick_at(utc(2026, 12, 1, 0, 30))
    assert [len(harness.texts(chat)) for chat in (1, 2, 3)] == [1, 1, 1]


async def test_the_daily_question_can_be_answered_for_feedback(harness: Harness) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    await harness.tick_at(utc(2026, 12, 1, 0, 0))
    assert len(harness.texts(1)) == 1
    replies = await harness.say(1, ANSWER)
    assert "Feedback jawabanmu" in replies[0].text


async def test_the_daily_question_replaces_an_unanswered_one(harness: Harness) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    await harness.say(1, "/latihan")  # asked, never answered
    await harness.tick_at(utc(2026, 12, 1, 0, 0))
    (daily,) = harness.texts(1)
    replies = await harness.say(1, ANSWER)
    # Graded against the question the user just read: its outline closes the feedback.
    assert harness.question_in(daily).outline[0] in replies[0].text


async def test_a_question_asked_minutes_ago_is_not_replaced(harness: Harness) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    harness.clock.now = utc(2026, 11, 30, 23, 50)
    (asked,) = await harness.say(1, "/latihan")
    await harness.tick_at(utc(2026, 12, 1, 0, 0))
    (daily,) = harness.texts(1)
    assert "Latihan harian" in daily and "Soal latihan hari ini" not in daily
    replies = await harness.say(1, ANSWER)
    assert harness.question_in(asked.text).outline[0] in replies[0].text


async def test_no_daily_question_while_onboarding_waits_for_an_answer(harness: Harness) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    await harness.say(1, "/start")  # stops at the first onboarding question
    await harness.tick_at(utc(2026, 12, 1, 0, 0))
    (daily,) = harness.texts(1)
    assert "Latihan harian" in daily and "Soal latihan hari ini" not in daily
    replies = await harness.say(1, "data")
    assert "2/4" in replies[0].text  # the reply still answers onboarding
    # Left half-way for a day, onboarding no longer holds the daily question back.
    await harness.tick_at(utc(2026, 12, 2, 0, 0))
    assert "Soal latihan hari ini" in harness.texts(1)[-1]


async def test_a_time_already_passed_today_starts_tomorrow(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)  # 10.00 WIB
    await harness.say(1, "/pengingat 07.00")
    await harness.engine.tick()
    rows = await harness.rows(1)
    assert [(r.kind, r.due_at) for r in rows] == [("tip", utc(2026, 12, 2, 0, 0))]
    assert harness.texts(1) == []
    await harness.tick_at(utc(2026, 12, 2, 0, 0))
    assert len(harness.texts(1)) == 1


@pytest.mark.parametrize(
    ("late", "delivered"), [(timedelta(hours=1, minutes=59), True), (timedelta(hours=3), False)]
)
async def test_downtime_catch_up(harness: Harness, late: timedelta, delivered: bool) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    await harness.engine.tick()  # rows are written, then the bot goes down
    await harness.tick_at(utc(2026, 12, 1, 0, 0) + late)  # restarted
    assert len(harness.texts(1)) == (1 if delivered else 0)
    (today,) = [r for r in await harness.rows(1) if r.dedupe_key.endswith("2026-12-01")]
    assert today.status == ("sent" if delivered else "skipped")


async def test_a_daily_message_is_not_sent_in_quiet_hours(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 5, 0)  # 12.00 WIB
    await harness.say(1, "/pengingat 20.30")
    await harness.engine.tick()
    # Down from 20.00 to 21.15 WIB: 45 minutes late, but 21.15 is quiet time.
    await harness.tick_at(utc(2026, 12, 1, 14, 15))
    assert harness.texts(1) == []
    (row,) = [r for r in await harness.rows(1) if r.dedupe_key.endswith("2026-12-01")]
    assert (row.status, row.last_error) == ("skipped", "quiet hours")


async def test_pengingat_refuses_quiet_hours(harness: Harness) -> None:
    replies = await harness.say(1, "/pengingat 22.00")
    assert "jam tenang" in replies[0].text
    assert (await harness.user(1)).daily_time.hour == 7


async def register(harness: Harness, chat: int, text: str) -> None:
    replies = await harness.say(chat, f"/interview {text}")
    assert "Sudah benar?" in replies[0].text, replies[0].text
    replies = await harness.say(chat, "ya")
    assert "Tersimpan!" in replies[0].text, replies[0].text


async def plan_rows(harness: Harness, chat: int) -> list[tuple[str, datetime]]:
    return [(r.item_id, r.due_at) for r in await harness.rows(chat) if r.kind == "plan"]


async def test_interview_in_ten_days_gets_the_full_plan_on_the_right_days(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)  # Tuesday 1 Dec, 10.00 WIB
    await harness.say(1, "/pengingat 07.00")
    await register(harness, 1, "11 Desember 2026 10.00 hr")
    rows = await plan_rows(harness, 1)
    days = {item: due for item, due in rows}
    assert days["plan-hr-001"] == utc(2026, 12, 4, 0, 0)  # H-7 at 07.00 WIB
    assert days["plan-all-001"] == utc(2026, 12, 10, 0, 0)  # H-1
    assert days["plan-hr-007"] == utc(2026, 12, 11, 1, 0)  # 2 hours before 10.00 WIB
    assert days["plan-hr-008"] == utc(2026, 12, 11, 6, 0)  # debrief 3 hours after
    assert all(due > harness.clock.now for _, due in rows)
    hr_steps = {s.id for s in harness.app.coach.library.plan if "hr" in s.rounds}
    assert set(days) == hr_steps


async def test_new_daily_time_or_zone_moves_the_coming_plan_steps(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)  # Tuesday 1 Dec, 10.00 WIB
    await register(harness, 1, "11 Desember 2026 10.00 hr")
    await harness.tick_at(utc(2026, 12, 4, 0, 0))  # H-7 goes out at 07.00 WIB
    assert "H-7 · Riset perusahaan" in harness.texts(1)[-1]

    await harness.say(1, "/pengingat 19.00")
    await harness.say(1, "/zona WITA")
    days = dict(await plan_rows(harness, 1))
    assert days["plan-all-001"] == utc(2026, 12, 10, 11, 0)  # H-1 now at 19.00 WITA
    assert days["plan-hr-008"] == utc(2026, 12, 11, 6, 0)  # debrief: still 3 hours after
    # The interview itself stays put: it was confirmed as 10.00 WIB.
    assert "Jumat, 11 Desember 2026 pukul 11.00 WITA" in (await harness.say(1, "/jadwal"))[0].text
    # The step already sent is not sent again, and every step exists once.
    sent = [r.item_id for r in await harness.rows(1) if r.status == "sent" and r.kind == "plan"]
    assert sent == ["plan-hr-001"]
    items = [item for item, _ in await plan_rows(harness, 1)]
    assert len(items) == len(set(items))


async def test_an_earlier_daily_time_keeps_todays_step(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)
    await harness.say(1, "/pengingat 20.00")
    await register(harness, 1, "10 Desember 2026 10.00 hr")
    harness.clock.now = utc(2026, 12, 7, 3, 0)  # H-3, 10.00 WIB; its step is due at 20.00
    await harness.say(1, "/pengingat 07.00")  # 07.00 has passed today
    days = dict(await plan_rows(harness, 1))
    assert days["plan-hr-005"] == utc(2026, 12, 7, 13, 0)  # still today, at the old time
    assert days["plan-hr-006"] == utc(2026, 12, 8, 0, 0)  # H-2 moves to 07.00


async def test_a_new_daily_time_keeps_the_notes_after_an_earlier_interview(
    harness: Harness,
) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)
    await register(harness, 1, "3 Desember 2026 23.30 hr")  # 16.30 UTC
    thank_you = dict(await plan_rows(harness, 1))["plan-hr-009"]
    assert thank_you == utc(2026, 12, 4, 23, 0)  # 22 h after is quiet: 06.00 on 5 Dec
    harness.clock.now = utc(2026, 12, 4, 18, 0)  # 25.5 h after the interview
    await harness.say(1, "/pengingat 08.00")
    assert dict(await plan_rows(harness, 1))["plan-hr-009"] == thank_you


async def test_moving_a_squeezed_plan_loses_no_step(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)  # 10.00 WIB, today's 07.00 has passed
    await register(harness, 1, "4 Desember 2026 13.00 user")
    planned = {item for item, _ in await plan_rows(harness, 1)}
    await harness.tick_at(utc(2026, 12, 2, 0, 0))  # the first squeezed day goes out
    assert len(harness.texts(1)) == 1

    await harness.say(1, "/pengingat 12.00")
    rows = await plan_rows(harness, 1)
    assert {item for item, _ in rows} == planned
    pending = [due for item, due in rows if due > harness.clock.now]
    assert utc(2026, 12, 3, 5, 0) in pending  # H-1 at the new 12.00 WIB
    # Today's plan message went out at 07.00: nothing is squeezed in at the new 12.00.
    await harness.tick_at(utc(2026, 12, 2, 5, 0))
    assert len(harness.texts(1)) == 1


async def test_interview_in_three_days_squeezes_the_important_steps(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)  # 10.00 WIB, today's 07.00 has passed
    await harness.say(1, "/pengingat 07.00")
    await register(harness, 1, "4 Desember 2026 13.00 user")
    rows = await plan_rows(harness, 1)
    by_day: dict[datetime, list[str]] = {}
    for item, due in rows:
        by_day.setdefault(due, []).append(item)
    library = {s.id: s for s in harness.app.coach.library.plan}
    before = [item for item, due in rows if library[item].days_before is not None]
    # Steps for H-7..H-4 only survive when important; H-3..H-1 keep their own day.
    assert all(
        library[item].priority <= 2 or (library[item].days_before or 0) <= 3 for item in before
    )
    assert "plan-user-002" in before  # priority 1 (STAR stories) survives the squeeze
    # At most two steps on any day, and nothing before the interview lands after it.
    assert all(len(items) <= 2 for due, items in by_day.items() if due < utc(2026, 12, 4, 6, 0))
    interview = utc(2026, 12, 4, 6, 0)
    assert all(due < interview for item, due in rows if library[item].hours_after is None)


async def test_interview_tomorrow_sends_the_eve_steps_together(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)  # 10.00 WIB
    await harness.say(1, "/pengingat 19.00")
    await register(harness, 1, "besok 09.00 user")
    await harness.tick_at(utc(2026, 12, 1, 12, 0))  # 19.00 WIB
    (text,) = harness.texts(1)
    # The H-1 steps and the daily tip arrive as one message, not three pings.
    assert "H-1 · Cek logistik" in text and "Latihan harian" in text
    await harness.tick_at(utc(2026, 12, 2, 0, 0))  # 07.00 WIB, two hours before
    assert "2 jam lagi" in harness.texts(1)[-1]


async def test_plan_step_due_in_quiet_hours_waits_for_the_morning(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)
    await register(harness, 1, "3 Desember 2026 07.00 hr")  # 2 h before is 05.00 WIB
    rows = dict(await plan_rows(harness, 1))
    assert rows["plan-hr-007"] == utc(2026, 12, 2, 23, 0)  # 06.00 WIB, still before


async def test_cancelled_interview_sends_nothing(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)
    await harness.say(1, "/jeda")
    await register(harness, 1, "10 Desember 2026 10.00 hr")
    replies = await harness.say(1, "/batal")
    (payload, _) = [b.payload for b in replies[0].buttons]
    replies = await harness.app.coach.handle(Inbound("telegram", "1", payload=payload))
    assert "sudah dibatalkan" in replies[0].text
    assert {r.status for r in await harness.rows(1)} == {"cancelled"}
    for day in range(2, 12):
        await harness.tick_at(utc(2026, 12, day, 1, 0))
    assert harness.texts(1) == []


async def test_jadwal_lists_interviews_and_coming_steps(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)
    await register(harness, 1, "10 Desember 2026 10.00 hr")
    await register(harness, 1, "15 Desember 2026 13.30 user")
    text = (await harness.say(1, "/jadwal"))[0].text
    assert "1. Interview HR · Kamis, 10 Desember 2026 pukul 10.00 WIB" in text
    assert "2. Interview user · Selasa, 15 Desember 2026 pukul 13.30 WIB" in text
    assert "H-7 · Riset perusahaan" in text
    assert "H-1 · Cek logistik" in text
    assert "Hari-H · 2 jam lagi interview HR" in text
    assert "tips harian: pukul 07.00 WIB" in text


async def test_blocked_user_is_marked_and_their_rows_cancelled(harness: Harness) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    await register(harness, 1, "10 Desember 2026 10.00 hr")
    harness.fake.block(1)
    await harness.tick_at(utc(2026, 12, 1, 0, 0))
    assert (await harness.user(1)).blocked
    statuses = {r.status for r in await harness.rows(1)}
    assert "pending" not in statuses and "sent" not in statuses
    await harness.tick_at(utc(2026, 12, 2, 0, 0))
    assert harness.texts(1) == []


async def test_start_after_unblocking_brings_the_coming_messages_back(
    harness: Harness,
) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    await register(harness, 1, "10 Desember 2026 10.00 hr")
    await register(harness, 1, "12 Desember 2026 10.00 user")
    harness.fake.block(1)
    await harness.tick_at(utc(2026, 12, 1, 0, 0))
    assert (await harness.user(1)).blocked
    # While blocked, the user round is cancelled from another device: it stays cancelled.
    await harness.say(1, "/batal")
    replies = await harness.app.coach.handle(Inbound("telegram", "1", payload="v1:batal:2"))
    assert "Interview user pada Sabtu, 12 Desember 2026" in replies[0].text

    harness.fake.unblock(1)
    harness.clock.now = utc(2026, 12, 2, 3, 0)  # 10.00 WIB
    await harness.say(1, "/start")
    assert not (await harness.user(1)).blocked
    await harness.tick_at(utc(2026, 12, 3, 0, 0))  # 07.00 WIB: H-7 of the HR round
    (text,) = harness.texts(1)
    assert "Latihan harian" in text and "H-7 · Riset perusahaan" in text
    rows = await harness.rows(1)
    user_round = [r for r in rows if r.item_id.startswith("plan-user")]
    assert user_round and {r.status for r in user_round} == {"cancelled"}


async def test_429_storm_delays_but_loses_nothing(harness: Harness) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    for chat in range(1, 6):
        await harness.say(chat, "/pengingat 07.00")
    harness.fake.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=3
    )
    await harness.tick_at(utc(2026, 12, 1, 0, 0))
    assert all(len(harness.texts(chat)) == 1 for chat in range(1, 6))
    assert {r.status for r in await harness.rows() if r.dedupe_key.endswith("2026-12-01")} == {
        "sent"
    }


async def test_two_dispatchers_racing_send_each_message_once(
    harness: Harness, database_url: str
) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    for chat in range(1, 31):
        await harness.say(chat, "/pengingat 07.00")
    await harness.engine.plan_tick()
    harness.clock.now = utc(2026, 12, 1, 0, 0)
    second_engine = create_engine(database_url)
    try:
        other = Dispatcher(
            create_session_factory(second_engine),
            harness.app.coach.library,
            {"telegram": harness.sender},
            harness.clock,
        )
        sent = await asyncio.gather(
            harness.engine.dispatcher.run_once(), other.run_once(), other.run_once()
        )
    finally:
        await second_engine.dispose()
    assert sum(sent) == 30
    assert all(len(harness.texts(chat)) == 1 for chat in range(1, 31))


async def test_a_users_due_rows_are_claimed_together_at_a_busy_minute(
    harness: Harness,
) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    for chat in (2, 3, 1):
        await harness.say(chat, "/pengingat 07.00")
    # Chat 1's H-7 step is written first, its daily tip after the others' tips.
    await register(harness, 1, "8 Desember 2026 10.00 hr")
    await harness.engine.plan_tick()
    due = utc(2026, 12, 1, 0, 0)  # 07.00 WIB: every chat has a row; chat 1 has two
    async with harness.app.sessions() as session, session.begin():
        claims = DeliveryRepository(session)
        batches = [
            await claims.claim_due(due, timedelta(minutes=2), 2, channels=["telegram"])
            for _ in range(2)
        ]
    chat1 = (await harness.user(1)).id
    kinds = [sorted(r.kind for r in batch if r.user_id == chat1) for batch in batches]
    assert sorted(kinds) == [[], ["plan", "tip"]]
    assert sum(len({r.user_id for r in batch}) for batch in batches) == 3


async def test_ignored_daily_messages_back_off_and_resume(harness: Harness) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    for day in range(1, 5):
        await harness.tick_at(utc(2026, 12, day, 0, 0))
    texts = harness.texts(1)
    assert len(texts) == 4
    assert sum("tiap tiga hari" in t for t in texts) == 1
    # Then only every third day after the last activity (1 Dec, local): 4 Dec, 7 Dec.
    for day in range(5, 9):
        await harness.tick_at(utc(2026, 12, day, 0, 0))
    assert len(harness.texts(1)) == 5
    await harness.say(1, "/tips")  # the user is back
    for day in range(9, 11):
        await harness.tick_at(utc(2026, 12, day, 0, 0))
    assert len(harness.texts(1)) == 7


async def test_the_back_off_note_comes_with_a_message_not_on_its_own(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)  # Tuesday 1 Dec, 10.00 WIB
    await harness.say(1, "/pengingat 07.00")
    moment = harness.clock.now
    sent: list[tuple[datetime, str]] = []
    while moment < utc(2026, 12, 9, 0, 0):  # ticking every 30 minutes for a week
        moment += timedelta(minutes=30)
        await harness.tick_at(moment)
        sent += [(moment, text) for text in harness.texts(1)[len(sent) :]]
    # 07.00 WIB is 00.00 UTC. Tips on 2, 3 and 4 Dec go unanswered (the user last wrote
    # on 1 Dec); from then on only every third day, on 4 and 7 Dec.
    assert [(at.day, at.hour, at.minute) for at, _ in sent] == [
        (2, 0, 0),
        (3, 0, 0),
        (4, 0, 0),
        (7, 0, 0),
    ]
    nudges = [text for _, text in sent if "tiap tiga hari" in text]
    assert len(nudges) == 1 and "Latihan harian" in nudges[0]


async def test_a_user_who_writes_again_gets_no_back_off_note(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)
    await harness.say(1, "/pengingat 07.00")
    for day in (2, 3, 4):  # three tips ignored
        await harness.tick_at(utc(2026, 12, day, 0, 0))
    await harness.tick_at(utc(2026, 12, 4, 1, 0))  # the note is planned with 7 Dec
    assert any(r.kind == "nudge" and r.status == "pending" for r in await harness.rows(1))
    harness.clock.now = utc(2026, 12, 5, 3, 0)
    await harness.say(1, "/tips")  # back before the note went out
    for day in (6, 7):
        await harness.tick_at(utc(2026, 12, day, 0, 0))
    daily = harness.texts(1)[3:]
    assert len(daily) == 2 and not any("tiap tiga hari" in text for text in daily)


async def test_jeda_and_lanjut(harness: Harness) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    await harness.engine.tick()
    assert "dijeda" in (await harness.say(1, "/jeda"))[0].text
    await harness.tick_at(utc(2026, 12, 1, 0, 0))
    assert harness.texts(1) == []
    assert "jalan lagi, pukul 07.00 WIB" in (await harness.say(1, "/lanjut"))[0].text
    await harness.tick_at(utc(2026, 12, 1, 23, 0))
    await harness.tick_at(utc(2026, 12, 2, 0, 0))
    assert len(harness.texts(1)) == 1


async def test_hr_debrief_offers_to_register_the_user_round(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)
    await harness.say(1, "/jeda")
    await register(harness, 1, "2 Desember 2026 10.00 hr")
    await harness.tick_at(utc(2026, 12, 2, 6, 0))  # 13.00 WIB, 3 hours after
    message = harness.fake.sent(1)[-1]
    assert "Bagaimana interview HR" in message["text"]
    payloads = [
        b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert payloads == ["v1:iv:user"]
    replies = await harness.app.coach.handle(Inbound("telegram", "1", payload="v1:iv:user"))
    assert "Kapan interview user-nya?" in replies[0].text
    replies = await harness.say(1, "9 Desember 2026 pukul 14.00")
    assert "Interview user pada Rabu, 9 Desember 2026 pukul 14.00 WIB" in replies[0].text


async def test_server_errors_back_off_with_jitter_then_give_up(harness: Harness) -> None:
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    harness.fake.fail_next("sendMessage", 500, "Internal Server Error", times=10)
    await harness.tick_at(utc(2026, 12, 1, 0, 0))
    (row,) = [r for r in await harness.rows(1) if r.dedupe_key.endswith("2026-12-01")]
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at is not None
    first_wait = row.next_attempt_at - harness.clock.now
    assert timedelta(seconds=15) <= first_wait <= timedelta(seconds=30)
    for _ in range(10):
        await harness.tick_at(harness.clock.now + timedelta(minutes=1))
    (row,) = [r for r in await harness.rows(1) if r.dedupe_key.endswith("2026-12-01")]
    assert (row.status, row.attempts) == ("failed", 5)
    assert harness.texts(1) == []


async def queue_reply(harness: Harness, chat: int, text: str) -> None:
    """What the inbound worker does with a reply it could not send."""
    user = await harness.user(chat)
    now = harness.clock.now
    async with harness.app.sessions() as session, session.begin():
        ids = await hold_replies(session, user.id, [Reply(text)], now, timedelta(minutes=2))
        await postpone_replies(session, user.id, ids, now, "TemporaryFailure")


async def test_a_waiting_reply_is_retried_until_it_expires_not_five_times(
    harness: Harness,
) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)  # 10.00 WIB
    await harness.say(1, "/bantuan")
    await queue_reply(harness, 1, "Feedback jawabanmu · skor 80/100")
    harness.fake.fail_next("sendMessage", 502, "Bad Gateway", times=7)
    for _ in range(8):  # Telegram is down for about three and a half hours
        await harness.tick_at(harness.clock.now + timedelta(minutes=31))
    (text,) = harness.texts(1)
    assert text.startswith("Maaf telat") and "skor 80/100" in text


async def test_a_long_message_is_not_sent_twice_when_a_later_part_fails(
    harness: Harness,
) -> None:
    harness.clock.now = utc(2026, 12, 1, 3, 0)
    await harness.say(1, "/bantuan")
    await queue_reply(harness, 1, "A" * 3500 + "\n\n" + "B" * 3500)
    sent_before = len([c for c in harness.fake.calls if c[0] == "sendMessage"])
    harness.fake.fail_next("sendMessage", 502, "Bad Gateway", times=1, after=1)
    await harness.tick_at(utc(2026, 12, 1, 3, 1))
    texts = harness.texts(1)
    assert [text[-1] for text in texts] == ["A", "B"]  # each part once, in order
    assert len([c for c in harness.fake.calls if c[0] == "sendMessage"]) == sent_before + 3


async def test_waiting_replies_go_out_together_and_in_order(harness: Harness) -> None:
    harness.clock.now = utc(2026, 12, 1, 13, 40)  # 20.40 WIB
    await harness.say(1, "/latihan")
    await queue_reply(harness, 1, "Jawaban pertama")
    harness.fake.fail_next("sendMessage", 502, "Bad Gateway", times=1)
    await harness.tick_at(utc(2026, 12, 1, 13, 41))  # Telegram still down
    await harness.tick_at(utc(2026, 12, 1, 14, 0))  # 21.00: quiet, user quiet too: held
    assert harness.texts(1) == []
    harness.clock.now = utc(2026, 12, 1, 14, 10)  # 21.10 WIB: the user writes again
    await harness.say(1, "/tips")
    await queue_reply(harness, 1, "Jawaban kedua")
    await harness.tick_at(utc(2026, 12, 1, 14, 11))
    (text,) = harness.texts(1)
    assert text.index("Jawaban pertama") < text.index("Jawaban kedua")


@pytest.mark.parametrize(
    ("delayed", "sent_at_hour"),
    [(timedelta(minutes=5), 14), (timedelta(hours=1), 23)],  # 21.05 WIB / 06.00 WIB
)
async def test_a_late_reply_waits_out_quiet_hours_unless_the_user_just_wrote(
    harness: Harness, delayed: timedelta, sent_at_hour: int
) -> None:
    harness.clock.now = utc(2026, 12, 1, 14, 5) - delayed
    await harness.say(1, "/bantuan")  # the user last wrote when the reply got stuck
    await queue_reply(harness, 1, "Feedback jawabanmu · skor 80/100")
    moment = utc(2026, 12, 1, 14, 5)  # 21.05 WIB: quiet hours
    while not harness.texts(1) and moment < utc(2026, 12, 2, 1, 0):
        await harness.tick_at(moment)
        moment += timedelta(minutes=5)
    (text,) = harness.texts(1)
    assert "skor 80/100" in text
    assert harness.clock.now.hour == sent_at_hour


async def test_console_chat_prints_due_messages_while_open(app: App, clock: FakeClock) -> None:
    import io

    from bot.channels.console import CHANNEL, ConsoleChat

    output = io.StringIO()
    chat = ConsoleChat(app.coach, output, chat_id="local", name="Rina")
    engine = SchedulerEngine(app.sessions, app.coach.library, {CHANNEL: chat}, clock)
    clock.now = utc(2026, 11, 30, 20, 0)
    await chat.send_line("/pengingat 07.00")
    await engine.tick()
    assert "Latihan harian" not in output.getvalue()
    clock.now = utc(2026, 12, 1, 0, 0)
    await engine.tick()
    printed = output.getvalue()
    assert "Latihan harian" in printed and "Soal latihan hari ini" in printed
    # The printed question is open: the next line is taken as the answer.
    await chat.send_line("Saat itu saya memimpin migrasi dan hasilnya downtime turun 80%.")
    assert "Feedback jawabanmu" in output.getvalue()


async def test_terminal_chat_leaves_telegram_users_messages_alone(harness: Harness) -> None:
    import io

    from bot.channels.console import CHANNEL, ConsoleChat

    harness.clock.now = utc(2026, 11, 30, 20, 0)
    await harness.say(1, "/pengingat 07.00")
    await register(harness, 1, "10 Desember 2026 10.00 hr")
    # `interview-coach chat` opened on the bot's database while the bot is down.
    chat = ConsoleChat(harness.app.coach, io.StringIO(), chat_id="local", name="Rina")
    console = SchedulerEngine(
        harness.app.sessions, harness.app.coach.library, {CHANNEL: chat}, harness.clock
    )
    harness.clock.now = utc(2026, 12, 3, 0, 0)  # 07.00 WIB: a tip and the H-7 step are due
    await console.tick()
    assert {r.status for r in await harness.rows(1) if r.due_at <= harness.clock.now} == {"pending"}
    # The bot comes back within the grace period and sends them.
    await harness.tick_at(utc(2026, 12, 3, 0, 30))
    (text,) = harness.texts(1)
    assert "H-7 · Riset perusahaan" in text and "Latihan harian" in text


async def test_the_planner_forgets_old_handled_updates_and_their_replies(
    harness: Harness,
) -> None:
    from bot.db.inbound import Arrival, InboundRepository
    from bot.db.models import InboundUpdate

    async def journal(update_id: int, at: datetime) -> None:
        async with harness.app.sessions() as session, session.begin():
            journal = InboundRepository(session, "telegram", "123456")
            (row,) = await journal.record([Arrival(str(update_id), "{}", "1")], at)
            if update_id != 3:
                assert await journal.claim(row.id, at)

    await journal(1, utc(2026, 12, 1, 0, 0))
    await journal(2, utc(2026, 12, 9, 0, 0))
    await journal(3, utc(2026, 12, 1, 0, 0))  # never handled: kept, however old
    harness.clock.now = utc(2026, 12, 1, 0, 0)
    await harness.say(1, "/bantuan")
    await queue_reply(harness, 1, "terkirim")  # a reply sent on 1 December
    await harness.engine.dispatch_tick()
    await queue_reply(harness, 1, "masih menunggu")  # a reply still waiting
    harness.clock.now = utc(2026, 12, 1, 1, 0)
    harness.clock.now = utc(2026, 12, 10, 0, 0)
    await harness.engine.plan_tick()
    async with harness.app.sessions() as session:
        kept = list(await session.scalars(select(InboundUpdate.platform_id)))
        replies = list(
            await session.scalars(select(Delivery.status).where(Delivery.kind == "reply"))
        )
    assert sorted(kept) == ["2", "3"]
    assert replies == ["pending"]


async def _users_due(harness: Harness, count: int) -> None:
    """`count` users whose daily message is due at 07.00 WIB on 1 December."""
    harness.clock.now = utc(2026, 11, 30, 20, 0)
    for chat in range(1, count + 1):
        await harness.say(chat, "/pengingat 07.00")
    await harness.engine.plan_tick()
    harness.clock.now = utc(2026, 12, 1, 0, 0)


async def _until_sent(harness: Harness, count: int) -> None:
    async with asyncio.timeout(30):
        for _ in iter(int, 1):  # polls the fake: it has no event to wait on
            if len(harness.fake.sent()) >= count:
                return
            await asyncio.sleep(0.01)


def _dispatcher(harness: Harness, sender: TelegramSender) -> Dispatcher:
    return Dispatcher(
        harness.app.sessions, harness.app.coach.library, {"telegram": sender}, harness.clock
    )


async def test_one_pass_streams_every_due_user_at_the_channels_rate(harness: Harness) -> None:
    await _users_due(harness, 120)
    sender = TelegramSender(harness.bot, on_blocked=harness._blocked, messages_per_second=50)
    labels = {"channel": "telegram", "kind": "tip", "outcome": "sent"}
    counted = metrics.REGISTRY.get_sample_value("coach_deliveries_total", labels) or 0.0
    assert await _dispatcher(harness, sender).run_once() == 120
    assert sorted(m["chat_id"] for m in harness.fake.sent()) == list(range(1, 121))
    assert metrics.REGISTRY.get_sample_value("coach_deliveries_total", labels) == counted + 120
    stamps = harness.fake.sent_times
    busiest = max(sum(1 for t in stamps if start <= t < start + 1) for start in stamps)
    # Steady: the slots are 20 ms apart, and only the loopback's jitter bunches them.
    # A bucket that starts full would let about 100 through in the first second.
    assert busiest <= 55


async def test_a_reply_during_a_broadcast_goes_out_before_the_waiting_daily_messages(
    harness: Harness,
) -> None:
    await _users_due(harness, 40)
    sender = TelegramSender(harness.bot, on_blocked=harness._blocked, messages_per_second=20)
    run = asyncio.create_task(_dispatcher(harness, sender).run_once())
    await _until_sent(harness, 5)
    await sender.send("999", Reply("Jawabanmu sudah aku terima."))
    order = [m["chat_id"] for m in harness.fake.sent()]
    assert await run == 40
    # More than 15 daily messages were waiting for the budget when the reply came.
    assert order.index(999) <= 7


async def test_paid_broadcast_is_only_for_scheduled_messages(harness: Harness) -> None:
    await _users_due(harness, 3)
    sender = TelegramSender(
        harness.bot, on_blocked=harness._blocked, paid_broadcast_per_second=1000
    )
    assert await _dispatcher(harness, sender).run_once() == 3
    await sender.send("999", Reply("Jawabanmu sudah aku terima."))
    paid = {m["chat_id"]: m.get("allow_paid_broadcast") for m in harness.fake.sent()}
    assert paid == {1: True, 2: True, 3: True, 999: None}


async def test_a_stopped_pass_leaves_the_rest_due_and_sends_nobody_twice(harness: Harness) -> None:
    await _users_due(harness, 60)
    sender = TelegramSender(harness.bot, on_blocked=harness._blocked, messages_per_second=20)
    dispatcher = _dispatcher(harness, sender)
    run = asyncio.create_task(dispatcher.run_once())
    await _until_sent(harness, 3)
    dispatcher.stop()
    sent = await run
    assert 3 <= sent < 60
    statuses = [r.status for r in await harness.rows() if r.dedupe_key.endswith("2026-12-01")]
    assert statuses.count("sent") == sent and statuses.count("pending") == 60 - sent
    chats = [m["chat_id"] for m in harness.fake.sent()]
    assert len(chats) == len(set(chats)) == sent
