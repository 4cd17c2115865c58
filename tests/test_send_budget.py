"""Two instances of the bot on one database send within one budget: on PostgreSQL they
reserve their slots from a shared row, so together they stay under the rate a single
instance keeps. SQLite serves a single instance, which paces itself."""

from __future__ import annotations

import asyncio

from bot.app import App
from bot.channels.telegram.sender import TelegramSender
from bot.db.send_budget import shared_budget
from handlers.types import Reply
from tests.fakes.telegram_api import FakeTelegram

RATE = 20
PER_INSTANCE = 30


async def _never_blocked(_chat_id: str) -> None:
    raise AssertionError("nobody blocks the bot here")


def _busiest_second(stamps: list[float]) -> int:
    return max(sum(1 for t in stamps if start <= t < start + 1) for start in stamps)


async def test_two_instances_together_stay_within_the_rate(app: App) -> None:
    async with FakeTelegram() as fake:
        bots = [fake.make_bot(), fake.make_bot()]
        senders = [
            TelegramSender(
                bot,
                on_blocked=_never_blocked,
                messages_per_second=RATE,
                shared=lambda budget: shared_budget(app.engine, budget),
            )
            for bot in bots
        ]
        try:
            await asyncio.gather(
                *(
                    sender.send(str(1000 * n + chat), Reply("Tips hari ini."))
                    for n, sender in enumerate(senders)
                    for chat in range(PER_INSTANCE)
                )
            )
        finally:
            for bot in bots:
                await bot.session.close()
        assert len(fake.sent()) == 2 * PER_INSTANCE
        busiest = _busiest_second(fake.sent_times)
        if app.engine.dialect.name == "postgresql":
            # Slots 50 ms apart; a busy machine's jitter may bunch one or two.
            assert busiest <= RATE + 3, busiest
        else:
            # Without a shared budget each instance keeps the rate on its own.
            assert shared_budget(app.engine, "telegram:1") is None
            assert RATE + 3 < busiest <= 2 * (RATE + 3)
